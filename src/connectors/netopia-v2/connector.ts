import type { Connector, Environment, NotificationVerdict } from '../types.js';
import { CREDENTIALS_CHECK_REFERENCE, credentialsCheckOfStatus } from '../types.js';
import {
  NETOPIA_V2_CREDENTIALS,
  NETOPIA_V2_CURRENCIES,
  NETOPIA_V2_SETTINGS,
  parseCredentials,
  parseSettings,
  publicCredentialFields,
  type NetopiaV2Credentials,
  type NetopiaV2Settings,
} from './config.js';
import { ipnReply, verifyIpn } from './ipn.js';
import { NETOPIA_V2_MAX_AMOUNT_MINOR } from './amounts.js';
import { creditRequest, creditResponse, statusRequest, statusResponse } from './operations.js';
import { startRequest, startResponse, verifyAuthRequest, verifyAuthResponse } from './start.js';

export type { NetopiaV2Credentials, NetopiaV2Settings } from './config.js';

/**
 * NETOPIA Payments API v2 (JSON + API key; IPNs signed with a JWT). Payments open with `/payment/card/start` in
 * hosted-page mode: NETOPIA answers `101` and a `paymentURL` where the customer enters the card on NETOPIA's page.
 */
export const netopiaV2: Connector<NetopiaV2Credentials, NetopiaV2Settings, Promise<NotificationVerdict>> = {
  provider: 'netopia-v2',
  displayName: 'NETOPIA Payments (API v2)',
  // NETOPIA refuses a start without billing email, names and city (its Go SDK's BillingShipping.Validate; the
  // country is sent as Romania when the payer names none). Amounts: see NETOPIA_V2_MAX_AMOUNT_MINOR.
  capabilities: {
    currencies: NETOPIA_V2_CURRENCIES,
    maxAmountMinor: NETOPIA_V2_MAX_AMOUNT_MINOR,
    requiredPayerFields: ['billing.first_name', 'billing.last_name', 'billing.email', 'billing.city'],
    minAmountMinor: 1,
    refunds: 'partial',
    manualCapture: false,
    flows: ['api_start'],
  },

  schemas: { credentials: NETOPIA_V2_CREDENTIALS, settings: NETOPIA_V2_SETTINGS },
  parseCredentials,
  parseSettings,
  publicCredentialFields,

  // The documented bases (NETOPIA's docs, WooCommerce plugin, netopia-card; notes §2.1). The SDKs' other
  // spellings differ, hence `settings.endpoint`.
  processorHosts: ['secure.netopia-payments.com', 'secure-sandbox.netopia-payments.com'],
  defaultEndpoint(environment: Environment, emulatorBaseUrl: string) {
    if (environment === 'live') return 'https://secure.mobilpay.ro/pay';
    if (environment === 'sandbox') return 'https://secure.sandbox.netopia-payments.com';
    return `${emulatorBaseUrl}/sandbox/netopia/v2`;
  },

  verifyNotification(config, notification) {
    return verifyIpn(config, notification);
  },

  replyToNotification: ipnReply,

  start: {
    request: (config, input) => startRequest(config, input),
    response: (_config, input, res) => startResponse(res, input),
  },

  // 3-D Secure after a `100` start answer: the bank posted its result (paRes) to the return page.
  completeAuthentication: {
    request: (config, attempt, context, form) =>
      verifyAuthRequest(config, {
        authenticationToken: typeof context.authentication_token === 'string' ? context.authentication_token : '',
        ntpID: attempt.processorReference ?? (typeof context.ntp_id === 'string' ? context.ntp_id : ''),
        formData: form,
      }),
    response: (_config, attempt, res) => verifyAuthResponse(res, attempt),
  },

  statusCheck: {
    request: (config, attempt) => statusRequest(config, attempt),
    response: (_config, attempt, res) => statusResponse(attempt, res),
  },

  // `POST /operation/status` of an order that does not exist: 404 (code 48) behind the API key's gateway, 401 when the key is not known.
  credentialsCheck: {
    request: (config) => statusRequest(config, { reference: CREDENTIALS_CHECK_REFERENCE, processorReference: null, amount: 0, currency: 'RON' }),
    response: (_config, res) => credentialsCheckOfStatus(res.status, 'NETOPIA'),
  },

  refund: {
    request: (config, refund) => creditRequest(config, refund),
    response: (_config, refund, res) => creditResponse(refund, res),
  },

  emulator: {
    accountPath: '/sandbox/netopia/v2/accounts',
    credentialsFrom(account: unknown) {
      const a = (typeof account === 'object' && account !== null ? account : {}) as Record<string, unknown>;
      return { api_key: String(a.api_key ?? ''), pos_signature: String(a.pos_signature ?? ''), notify_public_keys: String(a.notify_public_key_pem ?? '') };
    },
  },
};
