import { FieldErrors } from '../../core/validation.js';
import { Secret } from '../../security/secret.js';
import { readEndpointSetting } from '../settings.js';

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

const CONTROL_RE = /[\u0000-\u001f\u007f]/;

function text(errors: FieldErrors, input: Record<string, unknown>, name: string, max: number): string {
  const value = input[name];
  if (typeof value !== 'string' || value.trim() === '') {
    errors.add(`credentials.${name}`, 'is required');
    return '';
  }
  if (value.length > max || CONTROL_RE.test(value)) errors.add(`credentials.${name}`, `must be at most ${max} printable characters`);
  return value;
}

/** Validates the credentials a Volt connection needs (names as the OnPay surface maps them). */
export function parseVoltCredentials(raw: unknown): VoltCredentials {
  const errors = new FieldErrors();
  const input = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const clientId = text(errors, input, 'client_id', 200).trim();
  const clientSecret = text(errors, input, 'client_secret', 500);
  const username = text(errors, input, 'username', 500).trim();
  const password = text(errors, input, 'password', 500);
  const notificationSecret = text(errors, input, 'notification_secret', 500);
  errors.throwIfAny();
  return {
    client_id: clientId,
    client_secret: new Secret(clientSecret),
    username,
    password: new Secret(password),
    notification_secret: new Secret(notificationSecret),
  };
}

/** Validates a Volt connection's settings and applies the defaults. */
export function parseVoltSettings(raw: unknown): VoltSettings {
  const errors = new FieldErrors();
  const input = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const type = input.payment_type ?? 'OTHER';
  if (typeof type !== 'string' || !(VOLT_PAYMENT_TYPES as readonly string[]).includes(type)) errors.add('settings.payment_type', `must be one of ${VOLT_PAYMENT_TYPES.join(', ')}`);
  const maxAge = input.notification_max_age_seconds ?? DEFAULT_NOTIFICATION_MAX_AGE_SECONDS;
  if (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 60 || maxAge > 7 * 86_400) {
    errors.add('settings.notification_max_age_seconds', 'must be a whole number of seconds between 60 and 604800');
  }
  const endpoint = readEndpointSetting(errors, input.endpoint);
  errors.throwIfAny();
  return {
    payment_type: type as VoltPaymentType,
    notification_max_age_seconds: maxAge as number,
    ...(endpoint ? { endpoint } : {}),
  };
}
