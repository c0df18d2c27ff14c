import {
  deadlineOf,
  type AccessToken,
  type InboundResponse,
  type OperationError,
  type OperationFailure,
  type OutboundRequest,
  type ProcessorOperation,
} from '../connectors/types.js';
import { processorCalls } from '../observability/metrics.js';
import { OutboundRefusedError, outboundOf } from '../security/outbound.js';
import type { HubContext } from './context.js';
import { cacheSlot } from './hub-caches.js';
import { endpointKind, type LoadedConnection } from './connections.js';

/** Bodies larger than this are not processor answers the hub can use. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Access tokens per connection (and per credentials version), kept in memory: a cache, not state — a process
 * that restarts, or another process, fetches its own.
 */
const accessTokens = cacheSlot('processor access tokens', () => new Map<string, AccessToken>());

function tokenKey(loaded: LoadedConnection): string {
  return `${loaded.row.id}:${loaded.row.credentials_fingerprint}`;
}

/**
 * Error codes of a request that never left the hub or was never read by the processor: the name did not
 * resolve, nothing listened, no route, or the TLS handshake (which comes before any byte of the request) failed.
 */
const NEVER_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EAI_FAIL',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|ERR_CERT)/;

/**
 * What a call that produced no usable answer means (see OperationFailure):
 * - the outbound guard refused the address, or the connection could not be made (NEVER_SENT, TLS): `unreachable`;
 * - the deadline passed (the request may have been sent and processed: the hub cannot tell when it passed while
 *   connecting), the connection was reset or closed before the whole answer came, the answer was cut short or
 *   larger than MAX_RESPONSE_BYTES: `unknown`.
 */
export function failureOfNetworkError(e: unknown): OperationFailure {
  if (e instanceof OutboundRefusedError) return 'unreachable';
  const code = typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : '';
  if (NEVER_SENT.has(code) || TLS_CODE.test(code)) return 'unreachable';
  return 'unknown';
}

/** The deadline of an operation of this connection: the operator's override, else the connector's (or the default). */
function deadlineFor(ctx: HubContext, loaded: Pick<LoadedConnection, 'connector'>, operation: ProcessorOperation): number {
  return ctx.processorDeadlinesMs?.[operation] ?? deadlineOf(loaded.connector, operation);
}

/** Sends one request a connector built, within `deadlineMs`; a call without a usable answer comes back as an OperationError. */
export async function send(
  ctx: HubContext,
  provider: string,
  operation: string,
  request: OutboundRequest,
  deadlineMs: number,
): Promise<InboundResponse | OperationError> {
  const started = Date.now();
  try {
    // Public addresses only (or the hub's own emulators, or what the operator allows), pinned for the
    // connection; the answer is read up to MAX_RESPONSE_BYTES and no further, whatever its headers say.
    const response = await outboundOf(ctx).request(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      timeoutMs: deadlineMs,
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
    const failure = failureOfNetworkError(e);
    processorCalls.inc({ provider, operation, result: timedOut ? 'timeout' : 'network_error' });
    ctx.logger.warn({ provider, operation, failure, error: (e as Error).message, ms: Date.now() - started }, 'processor call failed');
    return {
      kind: 'error',
      failure,
      code: timedOut ? 'timeout' : failure === 'unreachable' ? 'unreachable' : 'network_error',
      message: timedOut
        ? `the processor did not answer within ${deadlineMs / 1000} s`
        : failure === 'unreachable'
          ? `the processor could not be reached (${(e as Error).message})`
          : `the processor's answer was lost (${(e as Error).message})`,
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
  const tokens = ctx.caches.of(accessTokens);
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
 * A token fetch that failed, as the failure of the call it was for: that call was never sent, so whatever the
 * token request's fate, the call itself is `unreachable` (safe to make again) unless the processor refused the
 * credentials.
 */
function beforeSending(error: OperationError): OperationError {
  return error.failure === 'refused' ? error : { ...error, failure: 'unreachable' };
}

/**
 * Makes one processor call for a connection: fetches an access token first when the processor needs one, and
 * fetches a new one once if the processor says the cached one is no longer valid (HTTP 401).
 */
export async function callProcessor(
  ctx: HubContext,
  loaded: LoadedConnection,
  operation: ProcessorOperation,
  build: (token: string | undefined) => OutboundRequest,
): Promise<InboundResponse | OperationError> {
  let token = await accessToken(ctx, loaded, false);
  if (isOperationError(token)) return beforeSending(token);
  let res = await sendChecked(ctx, loaded, operation, build(token));
  if (!isOperationError(res) && res.status === 401 && loaded.connector.authenticate) {
    token = await accessToken(ctx, loaded, true);
    if (isOperationError(token)) return beforeSending(token);
    res = await sendChecked(ctx, loaded, operation, build(token));
  }
  return res;
}

/**
 * `send`, for a connection's call: only to the processor's own hosts, the hub's emulator, or a host the operator
 * allowed (a `settings.endpoint` stored before that rule existed is not called). Carries the merchant's
 * processor credentials, so this is checked before anything is sent.
 */
function sendChecked(
  ctx: HubContext,
  loaded: LoadedConnection,
  operation: ProcessorOperation,
  request: OutboundRequest,
): Promise<InboundResponse | OperationError> {
  if (endpointKind(ctx, loaded.connector, request.url) === null) {
    ctx.logger.warn(
      { provider: loaded.row.provider, connection: loaded.row.id, operation },
      "processor call refused: the endpoint is not one of the processor's hosts",
    );
    return Promise.resolve({
      kind: 'error',
      failure: 'unreachable',
      code: 'endpoint_refused',
      message: `the connection's endpoint is not one of ${loaded.row.provider}'s hosts (settings.endpoint)`,
    });
  }
  return send(ctx, loaded.row.provider, operation, request, deadlineFor(ctx, loaded, operation));
}

/** The verdict of a "test connection": whether the processor accepts the connection's credentials. */
export interface CredentialsVerdict {
  /** `unsupported`: the processor offers no harmless authenticated call to ask with. */
  verdict: 'accepted' | 'refused' | 'unreachable' | 'unsupported';
  /** What the processor's answer (or its absence) said, in the processor's terms; no secret in it. */
  message: string;
}

/**
 * Asks the processor whether it accepts a connection's credentials with the connector's `credentialsCheck`
 * (a harmless authenticated call), through the same checked outbound path as every processor call. A processor
 * with access tokens gets a fresh token request first (not the cached token: the check is of the credentials),
 * and a token refused is a refusal. An answer that says neither, or none, is `unreachable`.
 */
export async function checkCredentials(ctx: HubContext, loaded: LoadedConnection): Promise<CredentialsVerdict> {
  const check = loaded.connector.credentialsCheck;
  if (!check) return { verdict: 'unsupported', message: `${loaded.connector.displayName} offers no call to check credentials with` };
  let token: string | undefined;
  const auth = loaded.connector.authenticate;
  if (auth) {
    const res = await sendChecked(ctx, loaded, 'authenticate', auth.request(loaded.config));
    if (isOperationError(res)) return { verdict: 'unreachable', message: res.message };
    const fetched = auth.response(loaded.config, res, new Date());
    if (isOperationError(fetched)) return { verdict: fetched.failure === 'refused' ? 'refused' : 'unreachable', message: fetched.message };
    token = fetched.token;
  }
  const res = await sendChecked(ctx, loaded, 'status_check', check.request(loaded.config, token));
  if (isOperationError(res)) return { verdict: 'unreachable', message: res.message };
  const read = check.response(loaded.config, res);
  if (read.kind === 'error') return { verdict: 'unreachable', message: read.message };
  return { verdict: read.kind, message: read.message };
}
