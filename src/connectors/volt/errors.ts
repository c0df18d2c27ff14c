import { failureOfHttpStatus, type InboundResponse, type OperationError } from '../types.js';

/**
 * Volt's error answers, read into the hub's OperationError. The OAuth endpoint answers `{code, message}`;
 * the API answers `{exception: {code, message, errorList: [{property, message}]}}`. Only timeouts, rate
 * limits and server errors are worth retrying; everything else is a refusal.
 */

export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Strings of a Volt error answer, cut to a length fit for a ledger line. */
function clip(value: unknown, max = 300): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, max) : undefined;
}

/** The message of a Volt error body, whichever of its shapes it has. */
export function voltErrorMessage(body: unknown): { code?: string; message?: string } {
  if (!isObject(body)) return {};
  const exception = body.exception;
  if (isObject(exception)) {
    const list = Array.isArray(exception.errorList)
      ? exception.errorList
          .filter(isObject)
          .slice(0, 10)
          .map((e) => [clip(e.property, 100), clip(e.message)].filter(Boolean).join(': '))
          .filter((line) => line !== '')
      : [];
    const message = [clip(exception.message), list.length ? list.join('; ') : undefined].filter(Boolean).join(': ');
    return { code: exception.code === undefined ? undefined : String(exception.code).slice(0, 40), message: message || undefined };
  }
  // {code, message} from /oauth; RFC 6749 {error, error_description} accepted too.
  const message = clip(body.message) ?? clip(body.error_description) ?? clip(body.error);
  const code = body.code ?? body.error;
  return { code: code === undefined ? undefined : String(code).slice(0, 40), message };
}

/** An OperationError for a Volt answer that is not the success the caller wanted. */
export function voltError(res: InboundResponse, what: string): OperationError {
  const { code, message } = voltErrorMessage(parseJson(res.body));
  return {
    kind: 'error',
    failure: failureOfHttpStatus(res.status),
    code: res.status === 401 ? 'unauthorized' : code ? `volt_${code}` : `http_${res.status}`,
    message: `Volt refused ${what} (HTTP ${res.status})${message ? `: ${message}` : ''}`,
  };
}

/** A 2xx answer without the fields the protocol promises: the call may have been carried out. */
export function unusable(what: string, detail: string): OperationError {
  return { kind: 'error', failure: 'unknown', code: 'invalid_response', message: `Volt's answer to ${what} is not usable: ${detail}` };
}
