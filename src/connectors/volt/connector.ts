import type { Connector, Environment, NotificationVerdict } from '../types.js';
import { authenticate, credentialsCheck, refund, start, statusCheck } from './api.js';
import {
  VOLT_CREDENTIALS,
  VOLT_SETTINGS,
  parseVoltCredentials,
  parseVoltSettings,
  voltPublicFields,
  type VoltCredentials,
  type VoltSettings,
} from './config.js';
import { replyToVoltNotification, verifyVoltNotification } from './notification.js';

export type { VoltCredentials, VoltSettings } from './config.js';

/**
 * Volt (open banking, Gateway API v2 with the hosted checkout). The hub fetches an OAuth token
 * (`authenticate`), opens the payment with `POST /v2/payments` (`start`) and sends the payer to Volt's
 * `checkoutUrl`, where they choose their bank and authorise the transfer there. Volt reports the outcome in
 * signed JSON notifications; `GET /payments/{id}` answers the same from Volt's side, and refunds are asked
 * with `POST /payments/{id}/request-refund` and confirmed by notification.
 */
export const volt: Connector<VoltCredentials, VoltSettings, NotificationVerdict> = {
  provider: 'volt',
  displayName: 'Volt (open banking, pay by bank)',
  // EUR only, as the OnPay surface offers Volt (onpay.md, "Currencies per acquirer").
  // `amount` in hundredths, at most 9 999 999 999 (Volt's validation, as the emulator models it); the shopper's
  // names and email are optional (the connector fills what is missing).
  capabilities: {
    currencies: ['EUR'],
    minAmountMinor: 1,
    maxAmountMinor: 9_999_999_999,
    requiredPayerFields: [],
    refunds: 'partial',
    manualCapture: false,
    flows: ['api_start'],
  },

  schemas: { credentials: VOLT_CREDENTIALS, settings: VOLT_SETTINGS },
  parseCredentials: parseVoltCredentials,
  parseSettings: parseVoltSettings,
  publicCredentialFields: voltPublicFields,

  // Volt's Gateway API is also documented on these hosts.
  processorHosts: ['gateway.volt.io', 'gateway.sandbox.volt.io'],
  defaultEndpoint(environment: Environment, emulatorBaseUrl: string) {
    if (environment === 'live') return 'https://api.volt.io';
    if (environment === 'sandbox') return 'https://api.sandbox.volt.io';
    return `${emulatorBaseUrl.replace(/\/+$/, '')}/sandbox/volt`;
  },

  verifyNotification(config, notification) {
    return verifyVoltNotification(config, notification, new Date());
  },

  replyToNotification: replyToVoltNotification,

  authenticate,
  start,
  statusCheck,
  refund,
  credentialsCheck,

  emulator: {
    accountPath: '/sandbox/volt/accounts',
    credentialsFrom(account: unknown) {
      const a = (typeof account === 'object' && account !== null ? account : {}) as Record<string, unknown>;
      const pick = (name: string) => (typeof a[name] === 'string' ? (a[name] as string) : '');
      return {
        client_id: pick('client_id'),
        client_secret: pick('client_secret'),
        username: pick('username'),
        password: pick('password'),
        notification_secret: pick('notification_secret'),
      };
    },
  },
};
