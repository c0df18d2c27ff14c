import type { TObject } from '@sinclair/typebox';
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
  /**
   * Where the processor must notify the hub, and where it returns the customer's browser (`cancel` when the
   * customer gives up, if the processor distinguishes it; else `return`).
   */
  urls: { notify: string; return: string; cancel?: string };
  /** The payment's deadline, for processors whose links expire (seconds or hours of validity). */
  expiresAt?: Date;
  /** The merchant's own order reference (the payment's `order_id`), for processors that show it to the payer. */
  merchantOrderId?: string;
  /** The customer's language (ISO 639-1), when known; else the connection's setting. */
  language?: string;
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
  /** Header names in lower case. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw query string of the notification URL, without `?` (some processors sign query parameters). */
  query?: string;
  /** The path the notification was sent to (`/notify/<provider>/<connection>`), for processors that sign the URL. */
  path?: string;
}

export interface VerifiedNotification {
  ok: true;
  /** The hub's attempt id that the processor echoes back. */
  reference: string;
  outcome: ProcessorOutcome;
  /** Two notifications with the same key say the same thing; the second is a no-op. */
  dedupeKey: string;
  /**
   * The amount and currency the processor says the order was for, checked against the ledger. `amount` is
   * left out when the message does not carry the order's amount (e.g. a refund notice carrying the refunded
   * total): then only the currency is checked, and a refund total above the attempt's amount is refused.
   */
  expected: { amount?: number; currency: string };
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

/** The payer fields a processor may require, named as in the native API (`billing.city`). */
export type PayerField = `${'billing' | 'shipping'}.${'first_name' | 'last_name' | 'email' | 'phone' | 'address' | 'city' | 'county' | 'zip_code' | 'country'}`;

/**
 * How a payer's payment reaches the processor: `redirect`, the browser is handed to the processor's page with a
 * form the connector builds (`createRedirect`); `api_start`, the hub opens the payment with an API call and sends
 * the browser where the answer says (`start`); `terminal`, a card-present terminal the hub drives with an API call
 * and a long deadline (no browser). The hosted payment page serves `redirect` and `api_start`.
 */
export type PaymentFlow = 'redirect' | 'api_start' | 'terminal';
export const PAYMENT_FLOWS: readonly PaymentFlow[] = ['redirect', 'api_start', 'terminal'];

/** What the hub may ask the processor to refund: nothing (refunds are made in its back office), the whole captured amount once, or any part. */
export type RefundSupport = 'none' | 'full' | 'partial';

/**
 * What a processor can do, as data the hub reads and enforces in one place (services/payment-requirements.ts):
 * a payment the connector could never open is refused when it is asked for, not when the payer opens it.
 */
export interface ConnectorCapabilities {
  /** ISO 4217 codes the processor accepts. */
  currencies: readonly string[];
  /** Smallest amount per payment in minor units the processor accepts (1 when it documents none). */
  minAmountMinor: number;
  /**
   * Largest amount per payment in minor units: the processor's limit, and never more than the connector can
   * encode exactly. A payment above it is refused at creation (`amount`), since the processor could never open it.
   */
  maxAmountMinor: number;
  /**
   * The payer fields the processor refuses a payment without (non-blank), refused at creation by name
   * (`billing.city`). Read in one place, `checkPaymentAgainstConnector` (services/payment-requirements.ts).
   */
  requiredPayerFields: readonly PayerField[];
  /** Refunds the hub can ask for (`refund`); enforced when a refund is asked (services/refunds.ts). */
  refunds: RefundSupport;
  /**
   * Whether a payment may stay authorized for the merchant to capture later (in the processor's back office: the
   * hub has no capture call yet); otherwise the processor captures at once.
   */
  manualCapture: boolean;
  /** The ways a payment can be opened with this processor (`createRedirect` for `redirect`, `start` for `api_start`). */
  flows: readonly PaymentFlow[];
  /**
   * The longest a payment link opened with this processor lives, in hours, when the connector can ask for no
   * longer (Nexi's PayMail `timeout`); undefined when a link lives as long as the payment. OnPay's get_link refuses
   * an `expDate` past it rather than make a link that closes early.
   */
  maxLinkLifetimeHours?: number;
}

/** The outbound operations a connector may declare, each with its own deadline. */
export type ProcessorOperation = 'authenticate' | 'start' | 'complete_authentication' | 'status_check' | 'refund';

/**
 * Deadlines when a connector declares none, in milliseconds, for the whole exchange (connect, send, answer).
 * Reads and token fetches are short (they are retried); a start waits for the processor to open the payment
 * while the payer looks at a spinner; a 3-D Secure completion and a refund may move money at the card schemes,
 * where an early give-up only makes the outcome unknown.
 */
export const DEFAULT_DEADLINES_MS: Readonly<Record<ProcessorOperation, number>> = {
  authenticate: 10_000,
  start: 20_000,
  complete_authentication: 30_000,
  status_check: 10_000,
  refund: 30_000,
};

/** The deadline of one operation: the connector's own when it declares one, else the default. */
export function deadlineOf(connector: Pick<Connector, 'deadlinesMs'>, operation: ProcessorOperation): number {
  return connector.deadlinesMs?.[operation] ?? DEFAULT_DEADLINES_MS[operation];
}

/**
 * An HTTP call the hub makes to a processor on a connector's behalf. Connectors stay sans-IO: they build the
 * request and read the response; the hub sends it (with a deadline) and stores what came back.
 */
export interface OutboundRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface InboundResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/** What a processor said about an attempt in a synchronous answer (a start, a status check, a refund). */
export interface OperationReport {
  outcome: ProcessorOutcome;
  /** Same meaning as a notification's: a report and a notification saying the same thing share the key. */
  dedupeKey: string;
  processorReference?: string;
  /** What the processor said (no card data beyond a masked PAN), for the ledger and the merchant. */
  summary: Record<string, unknown>;
}

/**
 * How a processor call failed, which decides what the hub may do next:
 * - `unreachable`: the request never reached the processor, or was turned away before being processed: safe to
 *   send again. Connection refused, DNS failure, TLS failure before the request was sent, the outbound guard or
 *   the endpoint rule refusing the address; HTTP 408 (the processor did not get the whole request) and 429 (its
 *   rate limiter turned it away).
 * - `refused`: the processor answered and said no (bad credentials, a field it rejects, an order it does not
 *   know): the same request gets the same no. A start refused fails its attempt; the payer may try again.
 * - `unknown`: the processor may have processed it: a deadline that passed after the request was sent, a
 *   connection reset before the whole answer came, an answer cut short or larger than the hub reads, a 5xx,
 *   an answer the connector cannot read. Never sent again blindly: the hub asks the processor's status
 *   (an attempt becomes `unknown` until then; a refund stays `processing`).
 */
export type OperationFailure = 'unreachable' | 'refused' | 'unknown';

/** A processor call that did not produce a usable answer. */
export interface OperationError {
  kind: 'error';
  failure: OperationFailure;
  code: string;
  message: string;
}

/** What an HTTP error status says about a request: see OperationFailure for each case. */
export function failureOfHttpStatus(status: number): OperationFailure {
  if (status === 408 || status === 429) return 'unreachable';
  if (status >= 500) return 'unknown';
  return 'refused';
}

/** The order reference a credentials check asks about: one no attempt ever has (attempt ids are `att_…`). */
export const CREDENTIALS_CHECK_REFERENCE = 'incasso-credentials-check';

/**
 * A credentials check's answer read from its HTTP status, for processors that answer a status query of an unknown
 * order with 404 (or an empty 2xx list) to a known caller and with 401 or 403 to an unknown one. Any other status
 * says neither: a 5xx is `unknown`, 408 and 429 `unreachable`, another 4xx `unknown` (the check cannot tell).
 */
export function credentialsCheckOfStatus(status: number, processor: string): CredentialsCheckResult {
  if (status === 401 || status === 403) return { kind: 'refused', message: `${processor} refused the credentials (HTTP ${status})` };
  if ((status >= 200 && status < 300) || status === 404)
    return { kind: 'accepted', message: `${processor} accepted the credentials (HTTP ${status} to a status query of an order that does not exist)` };
  const failure = failureOfHttpStatus(status);
  return { kind: 'error', failure: failure === 'refused' ? 'unknown' : failure, code: `http_${status}`, message: `${processor} answered HTTP ${status}` };
}

/** The answer to opening a payment with an API call. */
export type StartResult =
  /** Send the customer's browser there; `report` when the answer also said something about the attempt. */
  | { kind: 'redirect'; redirect: Redirect; processorReference?: string; report?: OperationReport }
  /** Resolved without the browser (approved or declined at once). */
  | { kind: 'resolved'; report: OperationReport }
  | OperationError;

/** One attempt as the hub knows it, for follow-up calls (status, refund). */
export interface AttemptReference {
  /** The hub's attempt id (the processor's order id). */
  reference: string;
  processorReference: string | null;
  amount: number;
  currency: string;
  /** The merchant's order reference (the payment's `order_id`), for processors whose reference is made from it. */
  merchantOrderId?: string;
}

export interface RefundRequest extends AttemptReference {
  /** The hub's refund id (unique; usable as the processor's idempotency key). */
  refundId: string;
  /** This refund, in minor units. */
  refundAmount: number;
  /** What was refunded on this attempt before this refund, in minor units. */
  refundedBefore: number;
  now: Date;
}

/**
 * What a processor's answer to a credentials check says: it knows the caller (`accepted`), it turned the
 * credentials away (`refused`), or the answer says neither (an OperationError: unreachable, or unknown).
 */
export type CredentialsCheckResult = { kind: 'accepted'; message: string } | { kind: 'refused'; message: string } | OperationError;

/** A cached access token for processors that use OAuth (Volt). */
export interface AccessToken {
  token: string;
  /** When to fetch a new one (a little before the processor's expiry). */
  refreshAt: Date;
}

/**
 * `V` is what `verifyNotification` returns: a verdict, or a promise of one (checks done with WebCrypto, such as
 * NETOPIA v2's JWT, are async). A connector that answers synchronously says so, and its direct callers need no await.
 */
export interface Connector<
  C = unknown,
  S = unknown,
  V extends NotificationVerdict | Promise<NotificationVerdict> = NotificationVerdict | Promise<NotificationVerdict>,
> {
  readonly provider: string;
  readonly displayName: string;
  readonly capabilities: ConnectorCapabilities;
  /**
   * The credentials and settings as TypeBox schemas (see config-schema.ts): `parseCredentials`/`parseSettings`,
   * the connections API's OpenAPI and the connection form all come from them; secret fields are marked `x-secret`.
   */
  readonly schemas: { credentials: TObject; settings: TObject };
  /** Deadlines of this processor's operations where the defaults (DEFAULT_DEADLINES_MS) do not fit. */
  readonly deadlinesMs?: Partial<Record<ProcessorOperation, number>>;
  /** Validates and normalizes credentials (throws ValidationError with `credentials.*` fields). */
  parseCredentials(raw: unknown): C;
  /** Validates settings and applies defaults (throws ValidationError with `settings.*` fields). */
  parseSettings(raw: unknown): S;
  /** The non-secret part of credentials that may be shown back (e.g. a POS signature). */
  publicCredentialFields(credentials: C): Record<string, string>;
  defaultEndpoint(environment: Environment, emulatorBaseUrl: string): string;
  /**
   * The processor's hosts besides those of its live and sandbox `defaultEndpoint` (other documented spellings):
   * a `settings.endpoint` override must be https on one of them (or the hub's emulator, or allowed by the operator).
   */
  readonly processorHosts?: readonly string[];
  /** Builds the browser hand-off for one attempt, for processors opened by a browser form (see `start`). */
  createRedirect?(config: ConnectionConfig<C, S>, input: PaymentRedirectInput): Redirect;
  /** Verifies (decrypts, checks signatures) and reads a notification from its raw bytes (WebCrypto checks are async). */
  verifyNotification(config: ConnectionConfig<C, S>, notification: InboundNotification): V;
  /** The reply the processor expects, in its own protocol. */
  replyToNotification(result: NotificationResult): HttpReply;
  /**
   * For processors that issue access tokens (OAuth): how to get one. The hub caches it per connection and
   * passes it to the calls below as `token`.
   */
  readonly authenticate?: {
    request(config: ConnectionConfig<C, S>): OutboundRequest;
    response(config: ConnectionConfig<C, S>, res: InboundResponse, now: Date): AccessToken | OperationError;
  };
  /**
   * For processors where a payment is opened with an API call (NETOPIA v2, MultiSafepay, Nexi pay-by-link,
   * Volt) instead of a browser form: `createRedirect` is then not used. The hub makes the call when the
   * customer opens the payment page (outside any database transaction) and stores the answer on the attempt.
   */
  readonly start?: {
    request(config: ConnectionConfig<C, S>, input: PaymentRedirectInput, token?: string): OutboundRequest;
    response(config: ConnectionConfig<C, S>, input: PaymentRedirectInput, res: InboundResponse): StartResult;
  };
  /**
   * For processors whose start may ask for 3-D Secure on the bank's page (NETOPIA v2's `100`): the bank posts
   * its result back to the hub's return page, and this call finishes the payment. `context` is the `summary` of
   * the start's report (where the connector kept what the call needs, such as an authentication token).
   */
  readonly completeAuthentication?: {
    request(
      config: ConnectionConfig<C, S>,
      attempt: AttemptReference,
      context: Record<string, unknown>,
      form: Record<string, string>,
      token?: string,
    ): OutboundRequest;
    response(config: ConnectionConfig<C, S>, attempt: AttemptReference, res: InboundResponse): StartResult;
  };
  /**
   * The processor's authoritative status of one attempt (reconciliation of payments left pending, and of attempts
   * whose start ended `unknown`). It must work with the hub's own reference alone (`processorReference` null):
   * an attempt whose start answer never came has no processor reference.
   */
  readonly statusCheck?: {
    request(config: ConnectionConfig<C, S>, attempt: AttemptReference, token?: string): OutboundRequest;
    response(config: ConnectionConfig<C, S>, attempt: AttemptReference, res: InboundResponse): OperationReport | OperationError;
  };
  /** A full or partial refund of a captured attempt. */
  readonly refund?: {
    request(config: ConnectionConfig<C, S>, refund: RefundRequest, token?: string): OutboundRequest;
    response(config: ConnectionConfig<C, S>, refund: RefundRequest, res: InboundResponse): OperationReport | OperationError;
  };
  /**
   * A harmless authenticated call that tells whether the processor accepts the connection's credentials (the
   * console's "test connection"): typically a status query of an order that does not exist, which a processor
   * answers "not found" to a caller it knows and "unauthorized" to one it does not. Nothing is created or moved.
   * Processors with `authenticate` get a fresh token first (a token refused is a refusal of the credentials),
   * passed here as `token`. The hub sends it through the same outbound path as the other calls.
   */
  readonly credentialsCheck?: {
    request(config: ConnectionConfig<C, S>, token?: string): OutboundRequest;
    response(config: ConnectionConfig<C, S>, res: InboundResponse): CredentialsCheckResult;
  };
  /** How to open a sandbox account on the built-in emulator, for `environment: emulator` connections. */
  readonly emulator?: { accountPath: string; credentialsFrom(account: unknown): Record<string, string> };
}
