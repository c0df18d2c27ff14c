/**
 * Reading NETOPIA v2 JSON documents (API answers and IPN bodies) defensively, and the `processor_response` the hub
 * records: the status document in exactly the shape NETOPIA's own integrations hand to merchants (seed 000):
 * `{error:{code,message}, payment:{amount,currency,data:{AuthCode,BIN,ISSUER,ISSUER_COUNTRY,RRN},ntpID,status,token}}`.
 */
import type { OperationReport } from '../types.js';
import { dedupeKeyOf, outcomeOfStatus, type StatusFacts, type StatusVerdict } from './statuses.js';

export type JsonObject = Record<string, unknown>;

/** A plain JSON object (not an array, not null). */
export function asObject(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** NETOPIA codes are strings ("00", "101"); a number in their place is read as its decimal text. */
export function asCode(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length <= 64 ? value : value.slice(0, 64);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/** `ntpID`, NETOPIA's payment id: a string of digits in practice, sometimes a number. */
export function asNtpId(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && /^[\x21-\x7e]{1,64}$/.test(value)) return value;
  return undefined;
}

export function asStatus(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value < 1_000_000 ? value : undefined;
}

/** An absolute http(s) URL, as a string. */
export function asHttpUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 4096) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Parses JSON text into an object, or undefined. */
export function parseJsonObject(text: string): JsonObject | undefined {
  try {
    return asObject(JSON.parse(text));
  } catch {
    return undefined;
  }
}

const DATA_KEYS = ['AuthCode', 'BIN', 'ISSUER', 'ISSUER_COUNTRY', 'RRN'] as const;

function pick(target: JsonObject, source: JsonObject, key: string, accept: (v: unknown) => boolean): void {
  if (Object.prototype.hasOwnProperty.call(source, key) && accept(source[key])) target[key] = source[key];
}
const isString = (v: unknown) => typeof v === 'string';
const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isStringOrNumber = (v: unknown) => isString(v) || isNumber(v);

/**
 * The seed-shaped status document, with only the keys the message carried (amount as the wire number).
 * `error` is the answer's `error` object, or for an IPN `{code, message}` taken from `payment.code`/`payment.message`.
 */
export function processorResponse(error: { code?: unknown; message?: unknown } | undefined, payment: JsonObject | undefined): JsonObject {
  const out: JsonObject = {};
  if (error) {
    const e: JsonObject = {};
    pick(e, error as JsonObject, 'code', isStringOrNumber);
    pick(e, error as JsonObject, 'message', isString);
    if (Object.keys(e).length) out.error = e;
  }
  if (payment) {
    const p: JsonObject = {};
    pick(p, payment, 'amount', isNumber);
    pick(p, payment, 'currency', isString);
    const data = asObject(payment.data);
    if (data) {
      const d: JsonObject = {};
      for (const k of DATA_KEYS) pick(d, data, k, isString);
      if (Object.keys(d).length) p.data = d;
    }
    pick(p, payment, 'ntpID', isStringOrNumber);
    pick(p, payment, 'status', isNumber);
    pick(p, payment, 'token', isString);
    out.payment = p;
  }
  return out;
}

/** The masked card number NETOPIA reports (`payment.instrument.panMasked`), when it looks masked. */
export function panMaskedOf(payment: JsonObject | undefined): string | undefined {
  const pan = asString(asObject(payment?.instrument)?.panMasked);
  // Never record something that could be a full card number.
  return pan && pan.length <= 32 && /[*xX]/.test(pan) ? pan : undefined;
}

export interface ReportInput {
  ntpID: string;
  facts: StatusFacts;
  verdict: StatusVerdict;
  processorResponse: JsonObject;
  panMasked?: string;
  extra?: JsonObject;
}

/** The summary recorded for a message about one payment (notification or API answer). */
export function summaryOf(input: ReportInput): JsonObject {
  return {
    processor_response: input.processorResponse,
    action: input.verdict.entry.action,
    status: input.facts.status,
    ntp_id: input.ntpID,
    ...(input.facts.code !== undefined ? { code: input.facts.code } : {}),
    ...(input.facts.message !== undefined ? { message: input.facts.message } : {}),
    ...(input.panMasked ? { pan_masked: input.panMasked } : {}),
    ...(input.extra ?? {}),
  };
}

/** An OperationReport for a status NETOPIA reported in an API answer (same key as the matching IPN's). */
export function reportOf(input: ReportInput): OperationReport {
  return {
    outcome: input.verdict.outcome,
    dedupeKey: dedupeKeyOf(input.ntpID, input.facts, input.verdict),
    processorReference: input.ntpID,
    summary: summaryOf(input),
  };
}

/** Reads status, amount and code of an answer's `payment` into a report (see `outcomeOfStatus`). */
export function statusReport(ntpID: string, facts: StatusFacts, error: JsonObject | undefined, payment: JsonObject, extra?: JsonObject): OperationReport {
  return reportOf({
    ntpID,
    facts,
    verdict: outcomeOfStatus(facts),
    processorResponse: processorResponse(error, payment),
    panMasked: panMaskedOf(payment),
    extra,
  });
}
