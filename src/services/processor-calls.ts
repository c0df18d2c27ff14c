import type { AccessToken, InboundResponse, OperationError, OutboundRequest } from '../connectors/types.js';
import { processorCalls } from '../observability/metrics.js';
import { outboundOf } from '../security/outbound.js';
import type { HubContext } from './context.js';
import { endpointKind, type LoadedConnection } from './connections.js';

/** Deadline of one call to a processor; a slower answer is treated as "unknown, retry later". */
export const PROCESSOR_CALL_TIMEOUT_MS = 15_000;
/** Bodies larger than this are not processor answers the hub can use. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Access tokens per connection (and per credentials version), kept in memory: a cache, not state — a process
 * that restarts, or another process, fetches its own.
 */
const tokens = new Map<string, AccessToken>();

function tokenKey(loaded: LoadedConnection): string {
  return `${loaded.row.id}:${loaded.row.credentials_fingerprint}`;
}

/** Sends one request a connector built; network failures and timeouts come back as retryable errors. */
export async function send(ctx: HubContext, provider: string, operation: string, request: OutboundRequest): Promise<InboundResponse | OperationError> {
  const started = Date.now();
  try {
    // Public addresses only (or the hub's own emulators, or what the operator allows), pinned for the
    // connection; the answer is read up to MAX_RESPONSE_BYTES and no further, whatever its headers say.
    const response = await outboundOf(ctx).request(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      timeoutMs: PROCESSOR_CALL_TIMEOUT_MS,
      maxBytes: MAX_RESPONSE_BYTES,
    });
    if (response.truncated) throw new Error(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`);
    if (response.bodyError) throw response.bodyError;
    const body = response.body.toString('utf8');
    const headers = response.headers;
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
  const res = await sendChecked(ctx, loaded, 'authenticate', auth.request(loaded.config));
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
  let res = await sendChecked(ctx, loaded, operation, build(token));
  if (!isOperationError(res) && res.status === 401 && loaded.connector.authenticate) {
    token = await accessToken(ctx, loaded, true);
    if (isOperationError(token)) return token;
    res = await sendChecked(ctx, loaded, operation, build(token));
  }
  return res;
}

/**
 * `send`, for a connection's call: only to the processor's own hosts, the hub's emulator, or a host the operator
 * allowed (a `settings.endpoint` stored before that rule existed is not called). Carries the merchant's
 * processor credentials, so this is checked before anything is sent.
 */
function sendChecked(ctx: HubContext, loaded: LoadedConnection, operation: string, request: OutboundRequest): Promise<InboundResponse | OperationError> {
  if (endpointKind(ctx, loaded.connector, request.url) === null) {
    ctx.logger.warn({ provider: loaded.row.provider, connection: loaded.row.id, operation }, 'processor call refused: the endpoint is not one of the processor\'s hosts');
    return Promise.resolve({ kind: 'error', retryable: true, code: 'endpoint_refused', message: `the connection's endpoint is not one of ${loaded.row.provider}'s hosts (settings.endpoint)` });
  }
  return send(ctx, loaded.row.provider, operation, request);
}
