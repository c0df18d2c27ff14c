import { ValidationError } from '../../core/validation.js';
import { CREDENTIALS_CHECK_REFERENCE } from '../types.js';
import type {
  Connector,
  ConnectionConfig,
  Environment,
  HttpReply,
  NotificationResult,
  NotificationVerdict,
  OutboundRequest,
  PaymentRedirectInput,
  StartResult,
} from '../types.js';
import { MAX_IMPORTO, NEXI_CURRENCY_CODES } from './currencies.js';
import { verifyResultNotification } from './notification.js';
import { ORDER_STATUS_PATH, orderStatusBody, readOrderStatus } from './order-status.js';
import { COD_TRANS_RE, PAYMAIL_PATH, payMailBody, readBackOfficeAnswer, timeoutHours } from './paymail.js';
import {
  MAX_TIMEOUT_HOURS,
  NEXI_CREDENTIALS,
  NEXI_SETTINGS,
  nexiPublicFields,
  parseNexiCredentials,
  parseNexiSettings,
  type NexiCredentials,
  type NexiSettings,
} from './config.js';

export type { NexiCredentials, NexiSettings } from './config.js';

/**
 * Nexi XPay, legacy API (ecommerce.nexi.it): alias + MAC key. A payment is a PayMail link (pay-by-link,
 * opened with a back-office call); the result comes back as XPay's hosted-page result, server to server on
 * `urlpost`, signed with the MAC key. Order status through `situazioneOrdine`.
 */

function codTransFor(reference: string): string {
  // The hub's attempt ids (`att_` + 26 characters) are 30 characters: exactly XPay's limit, and the
  // notification's codTrans is the attempt id again with no table to keep.
  if (!COD_TRANS_RE.test(reference))
    throw new ValidationError([{ field: 'reference', message: 'must be 2-30 characters without #, \', " or spaces to be an XPay codTrans' }]);
  return reference;
}

const json = (config: ConnectionConfig<NexiCredentials, NexiSettings>, path: string, body: Record<string, unknown>): OutboundRequest => ({
  method: 'POST',
  url: config.endpoint.replace(/\/+$/, '') + path,
  headers: { 'content-type': 'application/json', accept: 'application/json' },
  body: JSON.stringify(body),
});

export const nexi: Connector<NexiCredentials, NexiSettings, NotificationVerdict> = {
  provider: 'nexi',
  displayName: 'Nexi XPay (legacy API: alias + MAC key, PayMail links)',
  capabilities: {
    currencies: NEXI_CURRENCY_CODES,
    minAmountMinor: 1,
    maxAmountMinor: MAX_IMPORTO,
    requiredPayerFields: [],
    refunds: 'none',
    manualCapture: false,
    flows: ['api_start'],
    maxLinkLifetimeHours: MAX_TIMEOUT_HOURS,
  },

  schemas: { credentials: NEXI_CREDENTIALS, settings: NEXI_SETTINGS },
  parseCredentials: parseNexiCredentials,
  parseSettings: parseNexiSettings,
  publicCredentialFields: nexiPublicFields,

  defaultEndpoint(environment: Environment, emulatorBaseUrl: string) {
    if (environment === 'live') return 'https://ecommerce.nexi.it';
    if (environment === 'sandbox') return 'https://int-ecommerce.nexi.it';
    return `${emulatorBaseUrl}/sandbox/nexi`;
  },

  start: {
    request(config, input: PaymentRedirectInput) {
      return json(
        config,
        PAYMAIL_PATH,
        payMailBody({
          alias: config.credentials.alias,
          macKey: config.credentials.mac_key.reveal(),
          codTrans: codTransFor(input.reference),
          amount: input.amount,
          currency: input.currency,
          timeoutHours: Math.min(timeoutHours(input.expiresAt, input.now, config.settings.default_timeout_hours), MAX_TIMEOUT_HOURS),
          urls: input.urls,
          description: input.description,
          orderReference: input.merchantOrderId,
          billing: input.billing,
          language: input.language,
          accounting: config.settings.accounting,
          now: input.now,
        }),
      );
    },
    response(config, _input, res): StartResult {
      const answer = readBackOfficeAnswer(res, config.credentials.mac_key.reveal());
      if ('kind' in answer) return answer;
      const link = answer.json.payMailUrl;
      if (typeof link !== 'string' || !/^https?:\/\/[^\s]+$/.test(link))
        return { kind: 'error', failure: 'unknown', code: 'unreadable_answer', message: "Nexi's OK has no usable payMailUrl" };
      return { kind: 'redirect', redirect: { method: 'GET', url: link, fields: {} }, processorReference: answer.idOperazione };
    },
  },

  verifyNotification(config, notification) {
    return verifyResultNotification(notification, { alias: config.credentials.alias, macKey: config.credentials.mac_key.reveal() }, config.settings.accounting);
  },

  replyToNotification(result: NotificationResult): HttpReply {
    // XPay wants HTTP 200 for a result it may stop sending (a KO included); anything else makes it try again.
    // A result that can never be accepted is answered 200 too: sending the same bytes again cannot help.
    const text = (statusCode: number, body: string): HttpReply => ({ statusCode, contentType: 'text/plain; charset=utf-8', body });
    if (result.kind === 'recorded') return text(200, 'OK');
    if (result.kind === 'permanent_error') return text(200, `KO ${result.code}: ${result.message}`);
    return text(503, `retry later (${result.code}): ${result.message}`);
  },

  statusCheck: {
    request(config, attempt) {
      return json(config, ORDER_STATUS_PATH, orderStatusBody(config.credentials.alias, config.credentials.mac_key.reveal(), attempt.reference, new Date()));
    },
    response(config, attempt, res) {
      return readOrderStatus(res, config.credentials.mac_key.reveal(), attempt);
    },
  },

  // The order status (`situazioneOrdine`) of an order that does not exist: an OK whose MAC this key verifies to a
  // terminal Nexi knows; KO 4 ("Alias non valido") or 5 ("MAC errato") to credentials it does not accept.
  credentialsCheck: {
    request(config) {
      return json(
        config,
        ORDER_STATUS_PATH,
        orderStatusBody(config.credentials.alias, config.credentials.mac_key.reveal(), CREDENTIALS_CHECK_REFERENCE, new Date()),
      );
    },
    response(config, res) {
      const answer = readBackOfficeAnswer(res, config.credentials.mac_key.reveal());
      if (!('kind' in answer)) return { kind: 'accepted', message: 'Nexi accepted the alias and MAC key (the status of an order that does not exist)' };
      if (answer.code === 'nexi_4' || answer.code === 'nexi_5') return { kind: 'refused', message: `Nexi refused the alias or MAC key: ${answer.message}` };
      return answer.failure === 'refused' ? { ...answer, failure: 'unknown' } : answer;
    },
  },

  emulator: {
    accountPath: '/sandbox/nexi/accounts',
    credentialsFrom(account: unknown) {
      const a = account as Record<string, unknown>;
      return { alias: String(a.alias), mac_key: String(a.mac_key) };
    },
  },
};
