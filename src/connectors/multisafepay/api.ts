import { failureOfHttpStatus, type InboundResponse, type OperationError, type OutboundRequest } from '../types.js';
import { isRecord, MspJsonError, parseMspJson } from './json.js';

/**
 * MultiSafepay's JSON API envelope: `{success: true, data}` or `{success: false, data: {}, error_code,
 * error_info}` (OpenAPI `components/errors/Error1032.yaml` and its siblings). 1032 is "Invalid API key".
 */

/** API error codes the hub reacts to (docs "Error reference"). */
export const MSP_ERROR_CODES = {
  unknown: 1000,
  invalidAmount: 1001,
  invalidCurrency: 1002,
  invalidOrderId: 1006,
  invalidDescription: 1008,
  invalidVariable: 1010,
  missingData: 1016,
  invalidCountry: 1018,
  invalidApiKey: 1032,
  cannotRefund: 1034,
} as const;

/** An authenticated request to the API: the website API key in the `api_key` header (the spec's ApiKeyHeader). */
export function apiRequest(method: OutboundRequest['method'], url: string, apiKey: string, body?: unknown): OutboundRequest {
  const headers: Record<string, string> = { accept: 'application/json', api_key: apiKey };
  if (body === undefined) return { method, url, headers };
  return { method, url, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/**
 * The `data` of a successful answer, or the failure as an OperationError: by its HTTP status (failureOfHttpStatus:
 * 5xx unknown, 408 and 429 unreachable, other 4xx refused), and `unknown` for a 2xx that is not the envelope (the
 * call may have been carried out).
 */
export function readEnvelope(res: InboundResponse): { data: Record<string, unknown> } | OperationError {
  let parsed: unknown;
  try {
    parsed = parseMspJson(res.body);
  } catch (e) {
    if (!(e instanceof MspJsonError)) throw e;
    parsed = undefined;
  }
  const envelope = isRecord(parsed) ? parsed : undefined;
  if (envelope && envelope.success === false) {
    const code = typeof envelope.error_code === 'number' || typeof envelope.error_code === 'string' ? String(envelope.error_code) : 'unknown';
    const info = typeof envelope.error_info === 'string' ? envelope.error_info.slice(0, 500) : 'no error_info';
    return { kind: 'error', failure: failureOfHttpStatus(res.status), code: `multisafepay_${code}`, message: `MultiSafepay error ${code}: ${info}` };
  }
  if (res.status < 200 || res.status > 299) {
    return { kind: 'error', failure: failureOfHttpStatus(res.status), code: `http_${res.status}`, message: `MultiSafepay answered HTTP ${res.status}` };
  }
  if (!envelope || envelope.success !== true || !isRecord(envelope.data)) {
    return { kind: 'error', failure: 'unknown', code: 'invalid_response', message: 'MultiSafepay answered without {success: true, data: {...}}' };
  }
  return { data: envelope.data };
}
