/** Credentials and settings of a `multisafepay` connection, declared once (see ../config-schema.ts). */
import { Type } from '@sinclair/typebox';
import { SecretText, Text, readConfig } from '../config-schema.js';
import { Endpoint } from '../settings.js';
import type { Secret } from '../../security/secret.js';
import { LOCALE_RE } from './create-order.js';

export const MULTISAFEPAY_CREDENTIALS = Type.Object({
  // The PHP SDK trims the key before using it; so do we, once, here.
  api_key: SecretText({
    title: 'Website API key',
    description: 'the website API key (dashboard → Websites → API key)',
    pattern: '^[\\x21-\\x7e]{8,200}$',
    'x-trim': true,
    'x-error': 'must be the website API key from the MultiSafepay dashboard',
  }),
});

export const MULTISAFEPAY_SETTINGS = Type.Object({
  locale: Text({
    title: 'Locale',
    description: '`customer.locale` when the payment names no language',
    pattern: LOCALE_RE.source,
    default: 'en_US',
    'x-error': 'must be a locale such as en_US or it_IT',
  }),
  endpoint: Endpoint(),
});

export interface MultisafepayCredentials {
  /** The website API key (dashboard → Websites → API key). */
  api_key: Secret<string>;
}

export interface MultisafepaySettings {
  /** `customer.locale` when the payment names no language, e.g. `en_US`. */
  locale: string;
  /** Absolute base URL of the JSON API, e.g. https://testapi.multisafepay.com/v1/json. */
  endpoint?: string;
}

export const parseMultisafepayCredentials = (raw: unknown): MultisafepayCredentials => readConfig(MULTISAFEPAY_CREDENTIALS, raw, 'credentials');
export const parseMultisafepaySettings = (raw: unknown): MultisafepaySettings => readConfig(MULTISAFEPAY_SETTINGS, raw, 'settings');
