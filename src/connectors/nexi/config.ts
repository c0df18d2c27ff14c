/** Credentials and settings of a `nexi` connection, declared once (see ../config-schema.ts). */
import { Type } from '@sinclair/typebox';
import { Choice, SecretText, Text, publicFields, readConfig } from '../config-schema.js';
import { Endpoint } from '../settings.js';
import type { Secret } from '../../security/secret.js';
import type { Accounting } from './esito.js';

/**
 * The longest PayMail `timeout` (a link's life in hours) the connector asks for: a year. Nexi's published PayMail
 * and Pay-by-Link references give no maximum; the emulator refuses more, and OnPay's get_link refuses an `expDate`
 * past it (the connector's `maxLinkLifetimeHours`) instead of making a link that closes before it.
 */
export const MAX_TIMEOUT_HOURS = 24 * 365;

export const NEXI_CREDENTIALS = Type.Object({
  alias: Text({
    title: 'Terminal alias',
    description: 'the XPay terminal alias (`ALIAS_WEB_…`): `alias` on the hosted page, `apiKey` in back-office calls',
    pattern: '^[A-Za-z0-9_.\\-]{1,50}$',
    'x-trim': true,
    'x-public': true,
    'x-error': 'must be the XPay terminal alias, e.g. ALIAS_WEB_00012345',
  }),
  mac_key: SecretText({
    title: 'MAC key',
    description: 'the MAC key ("chiave segreta per calcolo MAC") from the XPay back office',
    minLength: 1,
    maxLength: 200,
    'x-trim': true,
    'x-error': 'must be the MAC key ("chiave segreta per calcolo MAC") from the XPay back office',
  }),
});

export const NEXI_SETTINGS = Type.Object({
  endpoint: Endpoint(),
  accounting: Choice(['C', 'D'] as const, {
    title: 'Accounting (TCONTAB)',
    description: "C: immediate capture; D: authorization only, captured later in XPay's back office",
    default: 'C',
    'x-error': 'must be C (immediate capture) or D (deferred capture)',
  }),
  default_timeout_hours: Type.Integer({
    title: 'Link life (hours)',
    description: 'how long a payment link lives when the payment has no deadline',
    minimum: 1,
    maximum: MAX_TIMEOUT_HOURS,
    default: 24,
    'x-error': `must be a whole number of hours from 1 to ${MAX_TIMEOUT_HOURS}`,
  }),
});

export interface NexiCredentials {
  /** The terminal alias (`ALIAS_WEB_…`): `alias` on the hosted page, `apiKey` in back-office calls. */
  alias: string;
  /** The MAC key ("chiave segreta per calcolo MAC"). */
  mac_key: Secret<string>;
}

export interface NexiSettings {
  endpoint?: string;
  /** `TCONTAB`: immediate capture (C, the default) or authorization only (D, captured later in XPay's back office). */
  accounting: Accounting;
  /** Link life when the payment has no deadline, in hours. */
  default_timeout_hours: number;
}

export const parseNexiCredentials = (raw: unknown): NexiCredentials => readConfig(NEXI_CREDENTIALS, raw, 'credentials');
export const parseNexiSettings = (raw: unknown): NexiSettings => readConfig(NEXI_SETTINGS, raw, 'settings');
export const nexiPublicFields = (c: NexiCredentials) => publicFields(NEXI_CREDENTIALS, c);
