import { Type } from '@sinclair/typebox';
import type { Secret } from '../../security/secret.js';
import { Choice, SecretText, Text, printable, publicFields, readConfig } from '../config-schema.js';
import { Endpoint } from '../settings.js';

/**
 * A Volt connection: the application's client id and secret, the API user's username and password (OAuth2
 * password grant), and the application's notification secret (separate from the client secret).
 */
export interface VoltCredentials {
  client_id: string;
  client_secret: Secret<string>;
  username: string;
  password: Secret<string>;
  notification_secret: Secret<string>;
}

/** Volt's transaction types for `POST /v2/payments`. */
export const VOLT_PAYMENT_TYPES = ['OTHER', 'GOODS', 'SERVICES', 'BILL', 'PERSON_TO_PERSON'] as const;
export type VoltPaymentType = (typeof VOLT_PAYMENT_TYPES)[number];

export interface VoltSettings {
  /** The payment's `type`. */
  payment_type: VoltPaymentType;
  /**
   * How old a notification's `X-Volt-Timed` may be. Volt retries an unanswered notification after 5 s, 30 s,
   * 3, 10 and 15 minutes; the default hour covers that schedule, and a replay older than it is refused.
   */
  notification_max_age_seconds: number;
  endpoint?: string;
}

export const DEFAULT_NOTIFICATION_MAX_AGE_SECONDS = 3600;
/** How far in the future a notification's timestamp may be (clock differences). */
export const NOTIFICATION_MAX_SKEW_SECONDS = 300;

const text = (title: string, max: number, extra: { 'x-trim'?: boolean; 'x-public'?: boolean } = {}) =>
  Text({
    title,
    minLength: 1,
    maxLength: max,
    pattern: printable(true),
    ...extra,
    'x-error-absent': 'is required',
    'x-error': `must be at most ${max} printable characters`,
  });
const secret = (title: string, max: number) =>
  SecretText({
    title,
    minLength: 1,
    maxLength: max,
    pattern: printable(true),
    'x-error-absent': 'is required',
    'x-error': `must be at most ${max} printable characters`,
  });

export const VOLT_CREDENTIALS = Type.Object({
  client_id: text("Application's client id", 200, { 'x-trim': true, 'x-public': true }),
  client_secret: secret("Application's client secret", 500),
  username: text('API user', 500, { 'x-trim': true, 'x-public': true }),
  password: secret("API user's password", 500),
  notification_secret: secret('Notification secret', 500),
});

export const VOLT_SETTINGS = Type.Object({
  payment_type: Choice(VOLT_PAYMENT_TYPES, {
    title: 'Payment type',
    description: "the payment's `type` in POST /v2/payments",
    default: 'OTHER',
    'x-error': `must be one of ${VOLT_PAYMENT_TYPES.join(', ')}`,
  }),
  notification_max_age_seconds: Type.Integer({
    title: 'Notification max age (s)',
    description: "how old a notification's X-Volt-Timed may be",
    minimum: 60,
    maximum: 7 * 86_400,
    default: DEFAULT_NOTIFICATION_MAX_AGE_SECONDS,
    'x-error': 'must be a whole number of seconds between 60 and 604800',
  }),
  endpoint: Endpoint(),
});

/** Validates the credentials a Volt connection needs (names as the OnPay surface maps them). */
export const parseVoltCredentials = (raw: unknown): VoltCredentials => readConfig(VOLT_CREDENTIALS, raw, 'credentials');

/** Validates a Volt connection's settings and applies the defaults. */
export const parseVoltSettings = (raw: unknown): VoltSettings => readConfig(VOLT_SETTINGS, raw, 'settings');

export const voltPublicFields = (c: VoltCredentials) => publicFields(VOLT_CREDENTIALS, c);
