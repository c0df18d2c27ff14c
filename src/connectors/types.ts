import type { ProcessorOutcome } from '../core/transitions.js';

/**
 * The contract every processor connector implements. Connectors are sans-IO: they build requests and read
 * responses and notifications, and never touch storage or the network themselves.
 */

export type Environment = 'live' | 'sandbox' | 'emulator';
export const ENVIRONMENTS: readonly Environment[] = ['live', 'sandbox', 'emulator'];

/** A person or company as the native API accepts them. */
export interface Party {
  type?: 'person' | 'company';
  first_name: string;
  last_name: string;
  email: string;
  phone?: string;
  address?: string;
  city?: string;
  county?: string;
  zip_code?: string;
  /** ISO 3166-1 alpha-2. */
  country?: string;
  company?: string;
  fiscal_number?: string;
}

/** What a connector needs to run: the connection's decrypted credentials and its settings. */
export interface ConnectionConfig<C, S> {
  credentials: C;
  settings: S;
  environment: Environment;
  /** The processor endpoint in effect (settings override, else the environment's default). */
  endpoint: string;
}

export interface PaymentRedirectInput {
  /** The hub's attempt id, used as the processor's order id (unique per attempt). */
  reference: string;
  amount: number;
  currency: string;
  description: string;
  billing: Party;
  shipping?: Party;
  metadata: Record<string, unknown>;
  /** Where the processor must notify the hub, and where it returns the customer's browser. */
  urls: { notify: string; return: string };
  now: Date;
}

/** How the customer's browser is handed to the processor: a form the hub page auto-submits, or a plain link. */
export interface Redirect {
  method: 'POST' | 'GET';
  url: string;
  fields: Record<string, string>;
}

export interface InboundNotification {
  body: Buffer;
  contentType?: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface VerifiedNotification {
  ok: true;
  /** The hub's attempt id that the processor echoes back. */
  reference: string;
  outcome: ProcessorOutcome;
  /** Two notifications with the same key say the same thing; the second is a no-op. */
  dedupeKey: string;
  /** The amount and currency the processor says the order was for, checked against the ledger. */
  expected: { amount: number; currency: string };
  processorReference?: string;
  /** What the processor said, for the ledger and the merchant (never card data beyond a masked PAN). */
  summary: Record<string, unknown>;
}

export interface RejectedNotification {
  ok: false;
  /** Permanent: retrying the same bytes can never succeed. */
  permanent: boolean;
  code: number;
  reason: string;
}

export type NotificationVerdict = VerifiedNotification | RejectedNotification;

/** What the hub concluded, for the connector to say in its protocol. */
export type NotificationResult =
  | { kind: 'recorded'; verdict?: VerifiedNotification }
  | { kind: 'temporary_error'; code: number; message: string }
  | { kind: 'permanent_error'; code: number; message: string };

export interface HttpReply {
  statusCode: number;
  contentType: string;
  body: string;
}

export interface ConnectorCapabilities {
  /** ISO 4217 codes the processor accepts. */
  currencies: readonly string[];
  /** Largest amount per payment in minor units, per currency exponent 2. */
  maxAmountMinor?: number;
  refunds: boolean;
  partialRefunds: boolean;
  manualCapture: boolean;
  /** How the customer pays: redirected to the processor's hosted page. */
  flow: 'redirect';
}

export interface Connector<C = unknown, S = unknown> {
  readonly provider: string;
  readonly displayName: string;
  readonly capabilities: ConnectorCapabilities;
  /** Validates and normalizes credentials (throws ValidationError with `credentials.*` fields). */
  parseCredentials(raw: unknown): C;
  /** Validates settings and applies defaults (throws ValidationError with `settings.*` fields). */
  parseSettings(raw: unknown): S;
  /** The non-secret part of credentials that may be shown back (e.g. a POS signature). */
  publicCredentialFields(credentials: C): Record<string, string>;
  defaultEndpoint(environment: Environment, emulatorBaseUrl: string): string;
  /** Builds the browser hand-off for one attempt. */
  createRedirect(config: ConnectionConfig<C, S>, input: PaymentRedirectInput): Redirect;
  /** Verifies (decrypts, checks signatures) and reads a notification from its raw bytes. */
  verifyNotification(config: ConnectionConfig<C, S>, notification: InboundNotification): NotificationVerdict;
  /** The reply the processor expects, in its own protocol. */
  replyToNotification(result: NotificationResult): HttpReply;
  /** How to open a sandbox account on the built-in emulator, for `environment: emulator` connections. */
  readonly emulator?: { accountPath: string; credentialsFrom(account: unknown): Record<string, string> };
}
