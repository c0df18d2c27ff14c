import type { AccessToken, InboundResponse, OperationError, OutboundRequest } from '../connectors/types.js';
import { processorCalls } from '../observability/metrics.js';
import type { HubContext } from './context.js';
import type { LoadedConnection } from './connections.js';

/** Deadline of one call to a processor; a slower answer is treated as "unknown, retry later". */
export const PROCESSOR_CALL_TIMEOUT_MS = 15_000;
/** Bodies larger than this are not processor answers the hub can use. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Access tokens per connection (and per credentials version), kept in memory: a cache, not state — a process
 * that restarts, or another process, fetches its own.
 */
const tokens = new Map<string, AccessToken>();

function tokenKey(loaded: LoadedConnection): string {
  return `${loaded.row.id}:${loaded.row.credentials_fingerprint}`;
}

async function readBody(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_RESPONSE_BYTES) throw new Error(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`);
  const text = await response.text();
  if (text.length > MAX_RESPONSE_BYTES) throw new Error(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`);
  return text;
}

/** Sends one request a connector built; network failures and timeouts come back as retryable errors. */
export async function send(ctx: HubContext, provider: string, operation: string, request: OutboundRequest): Promise<InboundResponse | OperationError> {
  const started = Date.now();
  try {
    const response = await (ctx.fetch ?? fetch)(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(PROCESSOR_CALL_TIMEOUT_MS),
    });
    const body = await readBody(response);
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    processorCalls.inc({ provider, operation, result: String(response.status) });
    ctx.logger.debug({ provider, operation, status: response.status, ms: Date.now() - started }, 'processor call');
    return { status: response.status, headers, body };
  } catch (e) {
    const timedOut = (e as Error).name === 'TimeoutError';
    processorCalls.inc({ provider, operation, result: timedOut ? 'timeout' : 'network_error' });
    ctx.logger.warn({ provider, operation, error: (e as Error).message, ms: Date.now() - started }, 'processor call failed');
    return {
      kind: 'error',
      retryable: true,
      code: timedOut ? 'timeout' : 'network_error',
      message: timedOut ? `the processor did not answer within ${PROCESSOR_CALL_TIMEOUT_MS / 1000} s` : `the processor could not be reached (${(e as Error).message})`,
    };
  }
}

export function isOperationError(x: unknown): x is OperationError {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'error';
}

/** The connection's access token when its processor uses one (fetched, or reused until its refresh time). */
async function accessToken(ctx: HubContext, loaded: LoadedConnection, fresh: boolean): Promise<string | undefined | OperationError> {
  const auth = loaded.connector.authenticate;
  if (!auth) return undefined;
  const key = tokenKey(loaded);
  const cached = tokens.get(key);
  if (!fresh && cached && cached.refreshAt.getTime() > Date.now()) return cached.token;
  const res = await send(ctx, loaded.row.provider, 'authenticate', auth.request(loaded.config));
  if (isOperationError(res)) return res;
  const token = auth.response(loaded.config, res, new Date());
  if (isOperationError(token)) return token;
  tokens.set(key, token);
  return token.token;
}

/**
 * Makes one processor call for a connection: fetches an access token first when the processor needs one, and
 * fetches a new one once if the processor says the cached one is no longer valid (HTTP 401).
 */
export async function callProcessor(
  ctx: HubContext,
  loaded: LoadedConnection,
  operation: string,
  build: (token: string | undefined) => OutboundRequest,
): Promise<InboundResponse | OperationError> {
  let token = await accessToken(ctx, loaded, false);
  if (isOperationError(token)) return token;
  let res = await send(ctx, loaded.row.provider, operation, build(token));
  if (!isOperationError(res) && res.status === 401 && loaded.connector.authenticate) {
    token = await accessToken(ctx, loaded, true);
    if (isOperationError(token)) return token;
    res = await send(ctx, loaded.row.provider, operation, build(token));
  }
  return res;
}
