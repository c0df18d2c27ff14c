import { currencyExponent, MoneyError } from '../../core/money.js';
import { CREDENTIALS_CHECK_REFERENCE, credentialsCheckOfStatus } from '../types.js';
import type {
  AccessToken,
  CredentialsCheckResult,
  AttemptReference,
  ConnectionConfig,
  InboundResponse,
  OperationError,
  OperationReport,
  OutboundRequest,
  PaymentRedirectInput,
  RefundRequest,
  StartResult,
} from '../types.js';
import type { VoltCredentials, VoltSettings } from './config.js';
import { isObject, parseJson, unusable, voltError, voltErrorMessage } from './errors.js';
import { fitsMerchantInternalReference, refundExternalReference, refundIdempotencyKey, uniqueReferenceFor, uniqueReferenceMatches } from './references.js';
import { outcomeFor, resolveStatus } from './statuses.js';

/**
 * The calls the hub makes to Volt's Gateway API (v2 hosted checkout), built and read without I/O:
 * `POST /oauth` (password grant), `POST /v2/payments`, `GET /payments/{id}` and
 * `POST /payments/{id}/request-refund`.
 */

type Config = ConnectionConfig<VoltCredentials, VoltSettings>;

/** The name the hub's ledger shows for a Volt payment when Volt does not say which bank paid. */
export const OPEN_BANKING = 'OPEN BANKING';

function base(config: Config): string {
  return config.endpoint.replace(/\/+$/, '');
}

function bearer(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * Volt amounts are integers "in 1/100 units (pence, cents etc)": ISO minor units for two-decimal currencies,
 * which is all the hub opens at Volt. Any other exponent would need a conversion Volt does not document.
 */
export function voltAmount(amount: number, currency: string): number {
  if (currencyExponent(currency) !== 2) throw new MoneyError(`Volt takes amounts in hundredths; ${currency} does not have two decimals`);
  if (!Number.isSafeInteger(amount) || amount < 1) throw new MoneyError(`not a payable amount: ${amount}`);
  return amount;
}

/**
 * When to fetch a new token: Volt's `expires_in` (3600 s in its guides, 86400 s in newer ones) less a tenth
 * of it, at most five minutes, so a call never starts with a token about to lapse. An answer without a usable
 * `expires_in` is trusted for five minutes.
 */
export function tokenRefreshAt(now: Date, expiresIn: unknown): Date {
  const lifetime = typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 300;
  const margin = Math.min(300, Math.floor(lifetime / 10));
  return new Date(now.getTime() + (lifetime - margin) * 1000);
}

export const authenticate = {
  request(config: Config): OutboundRequest {
    const c = config.credentials;
    const form = new URLSearchParams({
      grant_type: 'password',
      client_id: c.client_id,
      client_secret: c.client_secret.reveal(),
      username: c.username,
      password: c.password.reveal(),
    });
    return {
      method: 'POST',
      url: `${base(config)}/oauth`,
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8', accept: 'application/json' },
      body: form.toString(),
    };
  },
  response(_config: Config, res: InboundResponse, now: Date): AccessToken | OperationError {
    if (res.status < 200 || res.status > 299) {
      const error = voltError(res, 'the API user credentials');
      // A wrong client or user is a refusal however Volt words it (some answers carry 400, some 401).
      return error.failure !== 'refused' ? error : { ...error, code: error.code === 'unauthorized' ? 'invalid_credentials' : error.code };
    }
    const body = parseJson(res.body);
    if (!isObject(body) || typeof body.access_token !== 'string' || !/^[\x21-\x7e]{1,4096}$/.test(body.access_token))
      return unusable('the token request', 'no access_token');
    return { token: body.access_token, refreshAt: tokenRefreshAt(now, body.expires_in) };
  },
};

function shopper(input: PaymentRedirectInput) {
  const b = input.billing;
  const company = b.company?.trim();
  const firstName = b.first_name?.trim() || company || 'Shopper';
  const lastName = b.last_name?.trim() || company || firstName;
  const email = (b.email ?? '').trim();
  // The shopper's reference at the merchant: the hub knows the payer by email (Volt uses it to recognise
  // a returning payer); a payment without one is its own payer.
  // A payment link made without the payer's details (OnPay's) has no email: Volt's is optional.
  return {
    reference: (email.toLowerCase() || input.reference).slice(0, 100),
    ...(email ? { email } : {}),
    firstName: firstName.slice(0, 100),
    lastName: lastName.slice(0, 100),
  };
}

export const start = {
  request(config: Config, input: PaymentRedirectInput, token?: string): OutboundRequest {
    if (!fitsMerchantInternalReference(input.reference)) throw new RangeError('the hub reference must fit merchantInternalReference (1-100 characters)');
    const body = {
      currencyCode: input.currency,
      amount: voltAmount(input.amount, input.currency),
      type: config.settings.payment_type,
      // What the payer sees (the merchant's order id and the attempt's code), and the attempt id Volt echoes.
      uniqueReference: uniqueReferenceFor(input.reference, input.merchantOrderId),
      merchantInternalReference: input.reference,
      shopper: shopper(input),
      notificationUrl: input.urls.notify,
      paymentSuccessUrl: input.urls.return,
      paymentFailureUrl: input.urls.return,
      paymentPendingUrl: input.urls.return,
      paymentCancelUrl: input.urls.cancel ?? input.urls.return,
    };
    return {
      method: 'POST',
      url: `${base(config)}/v2/payments`,
      headers: { 'content-type': 'application/json', accept: 'application/json', ...bearer(token) },
      body: JSON.stringify(body),
    };
  },
  response(_config: Config, _input: PaymentRedirectInput, res: InboundResponse): StartResult {
    if (res.status !== 200 && res.status !== 201) return voltError(res, 'the payment');
    const body = parseJson(res.body);
    if (!isObject(body)) return unusable('the payment request', 'not a JSON object');
    const id = body.id;
    if (typeof id !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(id)) return unusable('the payment request', 'no payment id');
    let url: URL;
    try {
      url = new URL(String(body.checkoutUrl));
    } catch {
      return unusable('the payment request', 'no checkoutUrl');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return unusable('the payment request', 'the checkoutUrl is not http(s)');
    return { kind: 'redirect', redirect: { method: 'GET', url: url.toString(), fields: {} }, processorReference: id };
  },
};

/** The bank a Volt payment (or notification) names, else the generic method. */
export function paymentMethodOf(body: Record<string, unknown>): string {
  const bank = body.bank;
  const candidates = [isObject(bank) ? bank.name : undefined, body.bankName, body.groupName];
  for (const c of candidates) if (typeof c === 'string' && c.trim() !== '') return c.trim().slice(0, 100);
  return OPEN_BANKING;
}

function currencyOf(body: Record<string, unknown>): string | undefined {
  const c = body.currency;
  if (typeof c === 'string') return c;
  if (isObject(c) && typeof c.id === 'string') return c.id;
  return typeof body.currencyCode === 'string' ? body.currencyCode : undefined;
}

function lastUpdate(body: Record<string, unknown>): string | undefined {
  const updates = Array.isArray(body.statusUpdates) ? body.statusUpdates.filter(isObject) : [];
  const at = updates.length ? updates[updates.length - 1]!.createdAt : body.createdAt;
  if (typeof at !== 'string') return undefined;
  const time = new Date(at);
  return Number.isNaN(time.getTime()) ? undefined : time.toISOString();
}

export const statusCheck = {
  request(config: Config, attempt: AttemptReference, token?: string): OutboundRequest {
    // Without Volt's id (the answer to the start was lost), the list endpoint finds it by uniqueReference, made
    // again from the attempt id and the payment's order id.
    const url = attempt.processorReference
      ? `${base(config)}/payments/${encodeURIComponent(attempt.processorReference)}`
      : `${base(config)}/payments?${new URLSearchParams({ uniqueReference: uniqueReferenceFor(attempt.reference, attempt.merchantOrderId) })}`;
    return { method: 'GET', url, headers: { accept: 'application/json', ...bearer(token) } };
  },
  response(_config: Config, attempt: AttemptReference, res: InboundResponse): OperationReport | OperationError {
    if (res.status === 404) return { kind: 'error', failure: 'refused', code: 'not_found', message: `Volt has no payment for ${attempt.reference}` };
    if (res.status !== 200) return voltError(res, 'the status request');
    const parsed = parseJson(res.body);
    // Of a list, the payment of this attempt: its code at the end of the uniqueReference, its id echoed whole.
    const ours = (p: Record<string, unknown>) =>
      uniqueReferenceMatches(attempt.reference, p.uniqueReference) &&
      (typeof p.merchantInternalReference !== 'string' || p.merchantInternalReference === attempt.reference);
    const body = Array.isArray(parsed) ? parsed.filter(isObject).find(ours) : parsed;
    if (Array.isArray(parsed) && !body)
      return { kind: 'error', failure: 'refused', code: 'not_found', message: `Volt has no payment for ${attempt.reference}` };
    if (!isObject(body) || typeof body.id !== 'string' || typeof body.status !== 'string') return unusable('the status request', 'no id or status');
    const mismatch = (detail: string): OperationError => ({
      kind: 'error',
      failure: 'refused',
      code: 'mismatch',
      message: `Volt's payment ${body.id} is not this attempt: ${detail}`,
    });
    if (typeof body.uniqueReference === 'string' && !uniqueReferenceMatches(attempt.reference, body.uniqueReference))
      return mismatch('another uniqueReference');
    if (typeof body.merchantInternalReference === 'string' && body.merchantInternalReference !== attempt.reference)
      return mismatch('another merchantInternalReference');
    if (attempt.processorReference && body.id !== attempt.processorReference) return mismatch('another id');
    const currency = currencyOf(body);
    if (currency !== undefined && currency !== attempt.currency) return mismatch(`currency ${currency}`);
    if (typeof body.amount === 'number' && body.amount !== attempt.amount) return mismatch(`amount ${body.amount}`);
    const resolved = resolveStatus(body.status, typeof body.detailedStatus === 'string' ? body.detailedStatus : undefined);
    const time = lastUpdate(body);
    return {
      outcome: outcomeFor(resolved, attempt.amount),
      dedupeKey: `${body.id}:${resolved.word}`,
      processorReference: body.id,
      summary: {
        action: resolved.word.toLowerCase(),
        processor_status: resolved.word,
        payment_method: paymentMethodOf(body),
        ...(time ? { processor_time: time } : {}),
        volt_payment_id: body.id,
        amount: attempt.amount,
      },
    };
  },
};

export const refund = {
  request(config: Config, r: RefundRequest, token?: string): OutboundRequest {
    if (!r.processorReference) throw new RangeError(`attempt ${r.reference} has no Volt payment id to refund`);
    const body = { amount: voltAmount(r.refundAmount, r.currency), externalReference: refundExternalReference(r.refundId, r.refundedBefore + r.refundAmount) };
    return {
      method: 'POST',
      url: `${base(config)}/payments/${encodeURIComponent(r.processorReference)}/request-refund`,
      headers: { 'content-type': 'application/json', accept: 'application/json', 'idempotency-key': refundIdempotencyKey(r.refundId), ...bearer(token) },
      body: JSON.stringify(body),
    };
  },
  response(_config: Config, r: RefundRequest, res: InboundResponse): OperationReport | OperationError {
    const parsed = parseJson(res.body);
    const ok = res.status >= 200 && res.status <= 299;
    // A retried request Volt already has (same idempotency key) is the same refund, already requested.
    const repeated = res.status === 403 && /idempotency/i.test(voltErrorMessage(parsed).message ?? '');
    if (!ok && !repeated) return voltError(res, 'the refund');
    const refundId = ok && isObject(parsed) && typeof parsed.id === 'string' ? parsed.id : undefined;
    if (ok && !refundId) return unusable('the refund request', 'no refund id');
    // Volt confirms or fails a refund later, in a notification; asking changes nothing in the ledger yet.
    return {
      outcome: { kind: 'informational' },
      dedupeKey: `refund-request:${r.refundId}`,
      ...(r.processorReference ? { processorReference: r.processorReference } : {}),
      summary: {
        action: 'refund_requested',
        processor_status: 'REFUND_CREATED',
        ...(refundId ? { volt_refund_id: refundId } : {}),
        refund_amount: r.refundAmount,
        external_reference: refundExternalReference(r.refundId, r.refundedBefore + r.refundAmount),
      },
    };
  },
};

/**
 * The credentials check: the hub fetches a token first (`authenticate`: a wrong client or API user is refused
 * there), then lists the payments of a reference no payment has (`GET /payments?uniqueReference=…`): an empty
 * list to a valid token, 401 to one Volt does not know.
 */
export const credentialsCheck = {
  request(config: Config, token?: string): OutboundRequest {
    const query = new URLSearchParams({ uniqueReference: uniqueReferenceFor(CREDENTIALS_CHECK_REFERENCE) });
    return { method: 'GET', url: `${base(config)}/payments?${query}`, headers: { accept: 'application/json', ...bearer(token) } };
  },
  response(_config: Config, res: InboundResponse): CredentialsCheckResult {
    return credentialsCheckOfStatus(res.status, 'Volt');
  },
};
