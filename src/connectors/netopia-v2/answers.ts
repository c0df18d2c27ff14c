/**
 * How the hub reads NETOPIA v2 API answers (start, verify-auth, status, credit) at the HTTP level, and the
 * outbound requests they answer. Gateway failures may come as a flat `{code, message}` instead of `{error:{…}}`
 * (notes §2.2): both are understood. Nothing here throws.
 */
import { MoneyError } from '../../core/money.js';
import {
  failureOfHttpStatus,
  type ConnectionConfig,
  type InboundResponse,
  type OperationError,
  type OperationFailure,
  type OutboundRequest,
} from '../types.js';
import { majorToMinor } from './amounts.js';
import type { NetopiaV2Credentials, NetopiaV2Settings } from './config.js';
import { asCode, asNtpId, asObject, asStatus, asString, parseJsonObject, type JsonObject } from './documents.js';
import { statusEntry, type StatusFacts } from './statuses.js';

export type V2Config = ConnectionConfig<NetopiaV2Credentials, NetopiaV2Settings>;

/** A JSON POST to `{endpoint}{path}` with the raw API key in `Authorization` (no scheme; docs and every SDK). */
export function apiRequest(config: V2Config, path: string, body: unknown): OutboundRequest {
  return {
    method: 'POST',
    url: `${config.endpoint.replace(/\/+$/, '')}${path}`,
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: config.credentials.api_key.reveal() },
    body: JSON.stringify(body),
  };
}

export function operationError(failure: OperationFailure, code: string, message: string): OperationError {
  return { kind: 'error', failure, code, message: message.slice(0, 500) };
}

/**
 * An answer without the payment it should carry: NETOPIA's refusal when it says why (an error code), else an
 * answer the hub cannot read, to a call that may have been carried out.
 */
export function unreadOrRefused(answer: { code?: string }): OperationFailure {
  return answer.code !== undefined ? 'refused' : 'unknown';
}

export interface Answer {
  kind: 'answer';
  doc: JsonObject;
  error?: JsonObject;
  /** `error.code`, as text. */
  code?: string;
  message?: string;
  payment?: JsonObject;
}

/**
 * Sorts an HTTP answer: 401/403 are refusals of the credentials; 429 was turned away unprocessed (unreachable);
 * a 5xx, or a body that is not a JSON object, may come from a call that was carried out (unknown); a flat
 * `{code, message}` or a 4xx without a payment is a refusal of the request. Anything else is a document to read.
 */
export function readAnswer(res: InboundResponse): Answer | OperationError {
  const doc = typeof res.body === 'string' ? parseJsonObject(res.body) : undefined;
  const error = asObject(doc?.error);
  const flatCode = doc && !error ? asCode(doc.code) : undefined;
  const code = error ? asCode(error.code) : flatCode;
  const message = (error ? asString(error.message) : asString(doc?.message)) ?? '';
  if (res.status === 401 || res.status === 403) {
    return operationError('refused', code ?? `http_${res.status}`, message || `NETOPIA refused the API key (HTTP ${res.status})`);
  }
  if (res.status === 429 || res.status >= 500)
    return operationError(failureOfHttpStatus(res.status), `http_${res.status}`, message || `NETOPIA answered HTTP ${res.status}`);
  if (!doc)
    return operationError(
      res.status >= 200 && res.status <= 299 ? 'unknown' : failureOfHttpStatus(res.status),
      'unparsable_answer',
      `NETOPIA answered HTTP ${res.status} with a body that is not a JSON object`,
    );
  const payment = asObject(doc.payment);
  if (!error && !payment && flatCode !== undefined) return operationError('refused', flatCode, message || 'NETOPIA refused the request');
  if ((res.status < 200 || res.status > 299) && !payment) {
    return operationError('refused', code ?? `http_${res.status}`, message || `NETOPIA answered HTTP ${res.status}`);
  }
  return { kind: 'answer', doc, error, code, message: error ? asString(error.message) : undefined, payment };
}

export interface AnswerFacts {
  ntpID: string;
  facts: StatusFacts;
}

/**
 * Status, amount and code of an answer's `payment`. The amount is the answer's when it is in the hub's currency;
 * when it is absent or in another currency (NETOPIA converts to RON for POSes without the invoice currency), the
 * hub's own amount stands in, except for refund totals, which only NETOPIA knows.
 */
export function answerFacts(
  answer: Answer,
  payment: JsonObject,
  hub: { reference: string; amount: number; currency: string; processorReference?: string | null },
): AnswerFacts | OperationError {
  const status = asStatus(payment.status);
  if (status === undefined)
    return operationError(unreadOrRefused(answer), answer.code ?? 'unrecognized_answer', answer.message || 'NETOPIA answered without a payment status');
  const ntpID = asNtpId(payment.ntpID) ?? hub.processorReference ?? `order:${hub.reference}`;
  const currency = asString(payment.currency);
  const refundTotal = statusEntry(status).kind === 'refunded';
  let amountMinor = hub.amount;
  if (payment.amount !== undefined && (currency === undefined || currency === hub.currency)) {
    try {
      amountMinor = majorToMinor(payment.amount, hub.currency);
    } catch (e) {
      if (!(e instanceof MoneyError)) throw e;
      return operationError('unknown', 'bad_amount', `NETOPIA answered an unreadable amount: ${e.message}`);
    }
  } else if (refundTotal) {
    return operationError('unknown', 'currency_mismatch', `NETOPIA reported a credit in ${currency ?? 'no currency'} for a ${hub.currency} payment`);
  }
  const code = asCode(payment.code) ?? answer.code;
  const message = asString(payment.message) ?? answer.message;
  return { ntpID, facts: { status, amountMinor, ...(code !== undefined ? { code } : {}), ...(message !== undefined ? { message } : {}) } };
}
