/**
 * Opening a NETOPIA v2 card payment: `POST /payment/card/start` in hosted-page mode (no card data ever passes
 * through the hub: `instrument` is `{type:"card"}`), and reading the answer (notes §2.4, §2.5; seed 000).
 */
import { countryByAlpha2 } from '../../core/countries.js';
import type { OperationReport, OutboundRequest, Party, PaymentRedirectInput, StartResult } from '../types.js';
import { minorToMajor } from './amounts.js';
import { answerFacts, apiRequest, operationError, readAnswer, unreadOrRefused, type Answer, type V2Config } from './answers.js';
import { asHttpUrl, asNtpId, asObject, asString, reportOf, processorResponse, panMaskedOf, statusReport, type JsonObject } from './documents.js';
import { isApprovalCode, statusEntry, type StatusFacts } from './statuses.js';

/** NETOPIA's default country when the party names none (the SDK samples and netopia-card use 642 Romania). */
const ROMANIA = { numeric: 642, name: 'Romania' };

/** A Party as NETOPIA's billing/shipping object; `country` is ISO 3166-1 numeric plus its name. */
export function toNetopiaAddress(p: Party): JsonObject {
  // An alpha-2 the table does not know (the API only checks its shape) falls back to the default too.
  const country = (p.country !== undefined ? countryByAlpha2(p.country) : undefined) ?? ROMANIA;
  return {
    email: p.email,
    phone: p.phone ?? '',
    firstName: p.first_name,
    lastName: p.last_name,
    city: p.city ?? '',
    country: country.numeric,
    countryName: country.name,
    state: p.county ?? '',
    postalCode: p.zip_code ?? '',
    details: [p.company, p.fiscal_number, p.address].filter((v) => typeof v === 'string' && v !== '').join(', '),
  };
}

/** RFC 3339 in UTC without fractions ("2024-01-01T10:00:00Z"): what the Go SDK validates. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The StartRequest body of §2.4, hosted-page mode. */
export function startBody(config: V2Config, input: PaymentRedirectInput): JsonObject {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.metadata)) if (typeof v === 'string') data[k] = v;
  // orderID is the attempt's (NETOPIA wants a new one per try): the merchant's own reference travels beside it.
  if (input.merchantOrderId && data.order_reference === undefined) data.order_reference = input.merchantOrderId;
  const billing = toNetopiaAddress(input.billing);
  return {
    config: {
      emailTemplate: config.settings.email_template,
      emailSubject: '',
      cancelUrl: input.urls.cancel ?? input.urls.return,
      notifyUrl: input.urls.notify,
      redirectUrl: input.urls.return,
      language: (input.language ?? config.settings.language).toLowerCase(),
    },
    payment: { options: { installments: 0, bonus: 0 }, instrument: { type: 'card' } },
    order: {
      ntpID: '',
      posSignature: config.credentials.pos_signature,
      dateTime: rfc3339(input.now),
      description: input.description,
      orderID: input.reference,
      amount: minorToMajor(input.amount, input.currency),
      currency: input.currency,
      billing,
      // Without shipping details NETOPIA's own integrations send the billing ones (seed 000).
      shipping: input.shipping ? toNetopiaAddress(input.shipping) : billing,
      data,
    },
  };
}

export function startRequest(config: V2Config, input: PaymentRedirectInput): OutboundRequest {
  return apiRequest(config, '/payment/card/start', startBody(config, input));
}

/** What a payment answer is about: the hub's attempt. */
export interface AttemptFacts {
  reference: string;
  amount: number;
  currency: string;
}

/**
 * Reads a start (or verify-auth) answer:
 * - `101` + `payment.paymentURL`: send the customer to NETOPIA's hosted page (GET); not an error.
 * - `100` / status 15 + `customerAction`: 3-D Secure; the browser POSTs `customerAction.formData` to
 *   `customerAction.url`; the report keeps `authenticationToken` and `ntpID` for `/payment/card/verify-auth`.
 * - `00` + status 3/5 (2): paid (authorized) at once; other statuses by the status table.
 * - `56` (order closed / duplicate orderID), `99` (same orderID, other price) and card declines: a failed attempt.
 */
export function readPaymentAnswer(answer: Answer, attempt: AttemptFacts): StartResult {
  const { payment, error } = answer;
  const code = answer.code;
  if (code === '101') {
    const url = asHttpUrl(payment?.paymentURL);
    // The order was opened, but the payer cannot be sent to it: its status decides.
    if (!url) return operationError('unknown', '101', 'NETOPIA answered 101 without a usable paymentURL');
    const ntpID = asNtpId(payment?.ntpID);
    return { kind: 'redirect', redirect: { method: 'GET', url, fields: {} }, ...(ntpID ? { processorReference: ntpID } : {}) };
  }
  if (!payment) return operationError(unreadOrRefused(answer), code ?? 'unrecognized_answer', answer.message || 'NETOPIA answered without a payment');
  const read = answerFacts(answer, payment, attempt);
  if ('kind' in read) return read;
  const { ntpID, facts } = read;

  const action = asObject(answer.doc.customerAction);
  const actionUrl = asHttpUrl(action?.url);
  if ((code === '100' || facts.status === 15) && action && actionUrl) {
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(asObject(action.formData) ?? {})) if (typeof v === 'string' || typeof v === 'number') fields[k] = String(v);
    const token = asString(action.authenticationToken);
    const report = statusReport(ntpID, facts, error, payment, {
      customer_action: asString(action.type) ?? 'Authentication3D',
      ...(token !== undefined ? { authentication_token: token } : {}),
    });
    return { kind: 'redirect', redirect: { method: 'POST', url: actionUrl, fields }, processorReference: ntpID, report };
  }

  if (!isApprovalCode(code) && code !== '100') return { kind: 'resolved', report: refusalReport(ntpID, facts, code!, answer.message, error, payment) };

  const report = statusReport(ntpID, facts, error, payment);
  if (report.outcome.kind === 'informational') {
    const url = asHttpUrl(payment.paymentURL);
    if (url) return { kind: 'redirect', redirect: { method: 'GET', url, fields: {} }, processorReference: ntpID, report };
    return operationError('unknown', code ?? 'no_customer_action', `NETOPIA answered status ${facts.status} without a page to send the customer to`);
  }
  return { kind: 'resolved', report };
}

/**
 * A payment NETOPIA refused by its answer's code (56, 99, a card decline): a failed attempt with NETOPIA's code
 * and words. Its dedupe key keeps the code apart from the status unless the status itself is a failure: a 56
 * "Order closed" comes with status 5 of the order that was already paid, and must not pass for that capture.
 */
function refusalReport(
  ntpID: string,
  facts: StatusFacts,
  code: string,
  message: string | undefined,
  error: JsonObject | undefined,
  payment: JsonObject,
): OperationReport {
  const entry = statusEntry(facts.status);
  const text = message || facts.message || `NETOPIA refused the payment (${code})`;
  const failedStatus = entry.kind === 'failed';
  return reportOf({
    ntpID,
    facts: { ...facts, code, message: text },
    verdict: {
      outcome: { kind: 'failed', code, message: text },
      entry: failedStatus ? entry : { ...entry, action: 'refused' },
      amountIsRefundTotal: false,
      failedByCode: !failedStatus,
    },
    processorResponse: processorResponse(error, payment),
    panMasked: panMaskedOf(payment),
  });
}

/** Reads the HTTP answer to `/payment/card/start`. Never throws. */
export function startResponse(res: Parameters<typeof readAnswer>[0], attempt: AttemptFacts): StartResult {
  const answer = readAnswer(res);
  return answer.kind === 'error' ? answer : readPaymentAnswer(answer, attempt);
}

/** What `/payment/card/verify-auth` needs after the bank posted back to `backUrl` (3-D Secure, §2.3). */
export interface VerifyAuthInput {
  authenticationToken: string;
  ntpID: string;
  /** The fields the bank posted to `backUrl` (e.g. `paRes`), forwarded as they came. */
  formData: Record<string, string>;
}

/** Builds `POST /payment/card/verify-auth`. */
export function verifyAuthRequest(config: V2Config, input: VerifyAuthInput): OutboundRequest {
  return apiRequest(config, '/payment/card/verify-auth', { authenticationToken: input.authenticationToken, ntpID: input.ntpID, formData: input.formData });
}

/** Reads the answer to verify-auth: the same document as a start answer (usually `00` + status 3, or a decline). */
export function verifyAuthResponse(res: Parameters<typeof readAnswer>[0], attempt: AttemptFacts): StartResult {
  return startResponse(res, attempt);
}
