import type { ProcessorOutcome } from '../../core/transitions.js';
import { CREDENTIALS_CHECK_REFERENCE, credentialsCheckOfStatus } from '../types.js';
import type {
  AttemptReference,
  ConnectionConfig,
  Connector,
  Environment,
  HttpReply,
  InboundNotification,
  InboundResponse,
  NotificationResult,
  NotificationVerdict,
  OperationError,
  OperationReport,
  PaymentRedirectInput,
  RefundRequest,
  StartResult,
} from '../types.js';
import { apiRequest, readEnvelope } from './api.js';
import { verifyAuthHeader } from './auth-header.js';
import { createOrderBody, orderIdFor, referenceFor } from './create-order.js';
import { MspJsonError, parseMspJson } from './json.js';
import { MspOrderError, readOrder, type MspOrder } from './order.js';
import { dedupeKeyOf, outcomeOf, summaryOf } from './statuses.js';
import { isStorableValue } from '../../core/storable-text.js';
import {
  MULTISAFEPAY_CREDENTIALS,
  MULTISAFEPAY_SETTINGS,
  parseMultisafepayCredentials,
  parseMultisafepaySettings,
  type MultisafepayCredentials,
  type MultisafepaySettings,
} from './config.js';

export type { MultisafepayCredentials, MultisafepaySettings } from './config.js';

/** Codes of rejected notifications (the hub's own; MultiSafepay only sees that the reply is not `OK`). */
export const MSP_NOTIFY_ERRORS = {
  missingAuth: 1,
  badAuth: 2,
  stale: 3,
  unreadable: 4,
  integrity: 5,
} as const;

function baseUrl(config: ConnectionConfig<MultisafepayCredentials, MultisafepaySettings>): string {
  return config.endpoint.replace(/\/+$/, '');
}

function orderPath(config: ConnectionConfig<MultisafepayCredentials, MultisafepaySettings>, attempt: AttemptReference): string {
  return `${baseUrl(config)}/orders/${encodeURIComponent(attempt.processorReference ?? orderIdFor(attempt.reference))}`;
}

/** An order object answered by the API (status check): the same reading as a notification's body. */
function reportOf(data: Record<string, unknown>): OperationReport | OperationError {
  let order: MspOrder;
  try {
    order = readOrder(data);
  } catch (e) {
    if (e instanceof MspOrderError) return { kind: 'error', failure: 'unknown', code: 'invalid_response', message: `unusable order object: ${e.message}` };
    throw e;
  }
  const outcome = outcomeOf(order);
  return { outcome, dedupeKey: dedupeKeyOf(order, outcome), processorReference: order.order_id, summary: summaryOf(order) };
}

export const multisafepay: Connector<MultisafepayCredentials, MultisafepaySettings, NotificationVerdict> = {
  provider: 'multisafepay',
  displayName: 'MultiSafepay (payment links)',
  // onpay.md "Currencies per acquirer": EUR and GBP for MultiSafepay.
  // `amount` is a JSON integer of minor units; the API answers 1001 "Invalid amount" above 99 999 999 999 (as the
  // emulator models it). No customer field is required.
  capabilities: {
    currencies: ['EUR', 'GBP'],
    minAmountMinor: 1,
    maxAmountMinor: 99_999_999_999,
    requiredPayerFields: [],
    refunds: 'partial',
    manualCapture: false,
    flows: ['api_start'],
  },

  schemas: { credentials: MULTISAFEPAY_CREDENTIALS, settings: MULTISAFEPAY_SETTINGS },
  parseCredentials: parseMultisafepayCredentials,
  parseSettings: parseMultisafepaySettings,

  publicCredentialFields() {
    return {};
  },

  defaultEndpoint(environment: Environment, emulatorBaseUrl: string) {
    if (environment === 'live') return 'https://api.multisafepay.com/v1/json';
    if (environment === 'sandbox') return 'https://testapi.multisafepay.com/v1/json';
    return `${emulatorBaseUrl}/sandbox/multisafepay/v1/json`;
  },

  start: {
    request(config, input: PaymentRedirectInput) {
      return apiRequest('POST', `${baseUrl(config)}/orders`, config.credentials.api_key.reveal(), createOrderBody(input, config.settings.locale));
    },
    response(_config, input: PaymentRedirectInput, res: InboundResponse): StartResult {
      const read = readEnvelope(res);
      if ('kind' in read) return read;
      const url = read.data.payment_url;
      if (typeof url !== 'string' || !/^https?:\/\//.test(url)) {
        // The order was accepted (success: true) but cannot be handed to the payer: its status decides.
        return { kind: 'error', failure: 'unknown', code: 'invalid_response', message: 'MultiSafepay answered without a payment_url' };
      }
      const orderId = typeof read.data.order_id === 'string' ? read.data.order_id : orderIdFor(input.reference);
      return { kind: 'redirect', redirect: { method: 'GET', url, fields: {} }, processorReference: orderId };
    },
  },

  verifyNotification(config, notification: InboundNotification): NotificationVerdict {
    const reject = (code: number, reason: string, permanent = true): NotificationVerdict => ({ ok: false, permanent, code, reason });
    try {
      const auth = verifyAuthHeader(notification.headers.auth, notification.body, config.credentials.api_key.reveal(), new Date());
      if (!auth.ok) {
        const code =
          auth.reason === 'missing'
            ? MSP_NOTIFY_ERRORS.missingAuth
            : auth.reason === 'stale' || auth.reason === 'future'
              ? MSP_NOTIFY_ERRORS.stale
              : MSP_NOTIFY_ERRORS.badAuth;
        return reject(code, auth.message);
      }
      let order: MspOrder;
      try {
        order = readOrder(parseMspJson(notification.body.toString('utf8')));
      } catch (e) {
        // JSON.parse's message quotes the body, which may hold anything (U+0000 included): not echoed.
        if (e instanceof MspJsonError) return reject(MSP_NOTIFY_ERRORS.unreadable, 'unreadable order: the body is not JSON');
        if (e instanceof MspOrderError) return reject(MSP_NOTIFY_ERRORS.unreadable, `unreadable order: ${e.message}`);
        throw e;
      }
      const outcome: ProcessorOutcome = outcomeOf(order);
      const verdict: NotificationVerdict = {
        ok: true,
        reference: referenceFor(order.order_id, order.var1),
        outcome,
        dedupeKey: dedupeKeyOf(order, outcome),
        expected: { amount: order.amount, currency: order.currency },
        processorReference: order.order_id,
        summary: summaryOf(order, { notification_time: new Date(auth.timestamp * 1000).toISOString() }),
      };
      // Signed, but text the ledger cannot store (U+0000, a lone surrogate): no retry can ever record it.
      return isStorableValue(verdict) ? verdict : reject(MSP_NOTIFY_ERRORS.unreadable, 'unreadable order: text with a NUL character or malformed Unicode');
    } catch {
      // Never throw on hostile input: whatever slipped through is a notification we cannot read.
      return reject(MSP_NOTIFY_ERRORS.unreadable, 'unreadable notification');
    }
  },

  replyToNotification(result: NotificationResult): HttpReply {
    // MultiSafepay counts HTTP 200 with "OK" in the first 100 characters as delivered and retries anything
    // else, so errors answer a status other than 200 and a body without that word.
    if (result.kind === 'recorded') return { statusCode: 200, contentType: 'text/plain; charset=utf-8', body: 'OK' };
    if (result.kind === 'temporary_error')
      return { statusCode: 503, contentType: 'text/plain; charset=utf-8', body: `ERROR ${result.code}: temporary failure, retry later` };
    return { statusCode: 400, contentType: 'text/plain; charset=utf-8', body: `ERROR ${result.code}: notification rejected` };
  },

  statusCheck: {
    request(config, attempt) {
      return apiRequest('GET', orderPath(config, attempt), config.credentials.api_key.reveal());
    },
    response(_config, _attempt, res) {
      const read = readEnvelope(res);
      return 'kind' in read ? read : reportOf(read.data);
    },
  },

  // `GET /orders/{id}` of an order that does not exist: 404 (error 1006) to a known website, 401 (1032 "Invalid API key") otherwise.
  credentialsCheck: {
    request(config) {
      return apiRequest('GET', `${baseUrl(config)}/orders/${CREDENTIALS_CHECK_REFERENCE}`, config.credentials.api_key.reveal());
    },
    response(_config, res) {
      return credentialsCheckOfStatus(res.status, 'MultiSafepay');
    },
  },

  refund: {
    request(config, refund: RefundRequest) {
      // An amount of 0 (or none) asks MultiSafepay for a full refund: never send one by accident.
      if (!Number.isSafeInteger(refund.refundAmount) || refund.refundAmount <= 0) throw new RangeError('a refund needs a positive amount of minor units');
      const body: Record<string, unknown> = { currency: refund.currency, amount: refund.refundAmount, description: `Refund ${refund.refundId}` };
      // A refund order id of our own keeps MultiSafepay from reusing the payment's order id for it.
      if (refund.refundId.length <= 50) body.refund_order_id = refund.refundId;
      return apiRequest('POST', `${orderPath(config, refund)}/refunds`, config.credentials.api_key.reveal(), body);
    },
    response(_config, refund, res) {
      const read = readEnvelope(res);
      if ('kind' in read) return read;
      const total = refund.refundedBefore + refund.refundAmount;
      const orderId = refund.processorReference ?? orderIdFor(refund.reference);
      const summary: Record<string, unknown> = {
        action: total >= refund.amount ? 'refunded' : 'partial_refunded',
        processor_status: total >= refund.amount ? 'refunded' : 'partial_refunded',
        order_id: orderId,
        refund_amount: refund.refundAmount,
        amount_refunded: total,
        currency: refund.currency,
      };
      const refundId = read.data.refund_id;
      if (typeof refundId === 'string' || typeof refundId === 'number') summary.refund_id = String(refundId);
      const transactionId = read.data.transaction_id;
      if (typeof transactionId === 'string' || typeof transactionId === 'number') summary.refund_transaction_id = String(transactionId);
      return { outcome: { kind: 'refunded', totalRefunded: total }, dedupeKey: `${orderId}:refunded:${total}`, processorReference: orderId, summary };
    },
  },

  emulator: {
    accountPath: '/sandbox/multisafepay/accounts',
    credentialsFrom(account: unknown) {
      const a = (account ?? {}) as Record<string, unknown>;
      return { api_key: String(a.api_key) };
    },
  },
};
