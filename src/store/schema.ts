import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;

export interface MerchantsTable {
  id: string;
  name: string;
  created_at: Timestamp;
}

/** A merchant's API key: only its SHA-256 is stored; `prefix` (e.g. `sk_AbCd`) tells keys apart in lists. */
export interface MerchantApiKeysTable {
  id: string;
  merchant_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  created_at: Timestamp;
  last_used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface ConnectionsTable {
  id: string;
  merchant_id: string;
  code: string;
  provider: string;
  environment: string;
  credentials_encrypted: string;
  credentials_fingerprint: string;
  settings: Json<Record<string, unknown>>;
  status: ColumnType<string, string | undefined, string>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PaymentsTable {
  id: string;
  merchant_id: string;
  connection_id: string;
  order_id: string;
  amount: number;
  currency: string;
  description: string;
  billing: Json<Record<string, unknown>>;
  shipping: NullableJson<Record<string, unknown>>;
  return_url: string | null;
  expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  metadata: Json<Record<string, unknown>>;
  status: string;
  amount_authorized: ColumnType<number, number | undefined, number>;
  amount_captured: ColumnType<number, number | undefined, number>;
  amount_refunded: ColumnType<number, number | undefined, number>;
  paid_late: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** The surface the payment was made for (`invoice`), null for an API or compat payment; set at creation. */
  surface: ColumnType<string | null, string | null | undefined, never>;
}

export interface PaymentAttemptsTable {
  id: string;
  payment_id: string;
  number: number;
  provider: string;
  status: string;
  amount: number;
  currency: string;
  processor_reference: string | null;
  action: string | null;
  error_code: string | null;
  error_message: string | null;
  pan_masked: string | null;
  redirect: NullableJson<Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: Timestamp;
  reconciled_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface NotificationsTable {
  id: string;
  provider: string;
  connection_id: string | null;
  merchant_id: string | null;
  payment_id: string | null;
  attempt_id: string | null;
  received_at: Timestamp;
  remote_addr: string | null;
  content_type: string | null;
  body: ColumnType<Uint8Array, Uint8Array, Uint8Array>;
  status: string;
  dedupe_key: string | null;
  summary: NullableJson<Record<string, unknown>>;
  error: string | null;
  processed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** `notification`, or the hub's call whose answer this is (`start`, `status_check`, `refund`). */
  source: ColumnType<string, string | undefined, string>;
  headers: NullableJson<Record<string, string>>;
  query: ColumnType<string | null, string | null | undefined, string | null>;
  outcome: ColumnType<string | null, string | null | undefined, string | null>;
  /** The request was never authenticated (unknown connection, failed verification): `body` holds only its first bytes. */
  body_excerpt: ColumnType<boolean, boolean | undefined, boolean>;
  /** The request body's size in bytes as received (whole or not in `body`). */
  body_length: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface OnpayPartnersTable {
  merchant_id: string;
  activation_key_hash: string;
  activated_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  key_hash: string | null;
  key_prefix: string | null;
  created_at: Timestamp;
}

export interface OnpayUsersTable {
  id: string;
  merchant_id: string;
  side: string;
  gateway: string;
  quadruple_hash: string;
  connection_id: string;
  created_at: Timestamp;
}

export interface OnpayLinksTable {
  user_id: string;
  ext_id: string;
  payment_id: string;
  created_at: Timestamp;
}

export interface OnpayPaymentMethodsTable {
  code_number: Generated<number>;
  code_description: string;
  family: string;
  created_at: Timestamp;
}

export interface RefundsTable {
  id: string;
  merchant_id: string;
  payment_id: string;
  attempt_id: string;
  amount: number;
  currency: string;
  refunded_before: number;
  reason: string | null;
  /** pending (not sent yet) → processing (sent) → succeeded | failed. */
  status: string;
  error_code: string | null;
  error_message: string | null;
  locked_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PaymentStepsTable {
  merchant_id: string;
  conversation_id: string;
  step: string;
  connection_id: string;
  payment_id: string;
  request_hash: string;
  language: string;
  callback_endpoint_id: string | null;
  /** The processor's latest status document, as the JSON text the conversation receives. */
  processor_response: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EventsTable {
  id: string;
  merchant_id: string;
  type: string;
  payment_id: string | null;
  /** The exact JSON body delivered to webhook endpoints, kept as text so every redelivery sends the same bytes. */
  payload: string;
  created_at: Timestamp;
}

export interface WebhookEndpointsTable {
  id: string;
  merchant_id: string;
  url: string;
  events: Json<string[]>;
  secret_encrypted: string;
  status: ColumnType<string, string | undefined, string>;
  /** Set for a callback that only receives the events of one payment. */
  payment_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** After a rotation, the previous secret (encrypted) and until when deliveries are signed with it too. */
  previous_secret_encrypted: ColumnType<string | null, string | null | undefined, string | null>;
  previous_secret_expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface WebhookDeliveriesTable {
  id: string;
  event_id: string;
  endpoint_id: string;
  merchant_id: string;
  status: string;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp;
  locked_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: Timestamp;
}

export interface WebhookDeliveryAttemptsTable {
  id: Generated<number>;
  delivery_id: string;
  attempted_at: Timestamp;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_body: string | null;
}

export interface IdempotencyKeysTable {
  merchant_id: string;
  key: string;
  request_hash: string;
  response_status: number;
  response_body: Json<unknown>;
  created_at: Timestamp;
}

export interface UsersTable {
  id: string;
  /** Lower-cased. */
  email: string;
  role: 'operator' | 'admin' | 'viewer';
  /** NULL for the operator. */
  merchant_id: string | null;
  /** `scrypt$N$r$p$salt$hash` (base64url), NULL until the user sets a password. */
  password_hash: ColumnType<string | null, string | null | undefined, string | null>;
  language: ColumnType<'ro' | 'en' | 'it', 'ro' | 'en' | 'it' | undefined, 'ro' | 'en' | 'it'>;
  failed_logins: ColumnType<number, number | undefined, number>;
  login_blocked_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: Timestamp;
  disabled_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_login_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface UserSessionsTable {
  token_hash: string;
  user_id: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
}

export interface UserPasswordTokensTable {
  token_hash: string;
  user_id: string;
  expires_at: Timestamp;
  used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: Timestamp;
}

type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type NullableText = ColumnType<string | null, string | null | undefined, string | null>;
/** A calendar date (`date` column), read and written as `YYYY-MM-DD` text. */
type DateText = ColumnType<string, string, string>;
type NullableDateText = ColumnType<string | null, string | null | undefined, string | null>;

export interface InvoiceSellerProfilesTable {
  merchant_id: string;
  name: string;
  fiscal_code: string;
  trade_register: NullableText;
  address: string;
  city: string;
  county: NullableText;
  country: ColumnType<string, string | undefined, string>;
  iban: NullableText;
  bank: NullableText;
  vat_payer: boolean;
  email: NullableText;
  phone: NullableText;
  updated_at: Timestamp;
}

export interface InvoiceSeriesTable {
  id: string;
  merchant_id: string;
  kind: 'proforma' | 'invoice';
  prefix: string;
  next_number: number;
  padding: ColumnType<number, number | undefined, number>;
  is_default: ColumnType<boolean, boolean | undefined, boolean>;
  /** The last number a document took from this series; null while none did. */
  last_issued_number: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface InvoiceSettingsTable {
  merchant_id: string;
  card_payment_default: ColumnType<boolean, boolean | undefined, boolean>;
  auto_fiscal_from_proforma: ColumnType<boolean, boolean | undefined, boolean>;
  auto_collection: ColumnType<boolean, boolean | undefined, boolean>;
  updated_at: Timestamp;
}

export interface InvoicesTable {
  id: string;
  merchant_id: string;
  kind: 'proforma' | 'invoice';
  status: 'draft' | 'issued' | 'paid' | 'canceled';
  series_id: NullableText;
  number: ColumnType<number | null, number | null | undefined, number | null>;
  full_number: NullableText;
  issue_date: NullableDateText;
  due_date: NullableDateText;
  currency: ColumnType<string, string | undefined, string>;
  language: ColumnType<'ro' | 'en' | 'it', 'ro' | 'en' | 'it' | undefined, 'ro' | 'en' | 'it'>;
  buyer: Json<Record<string, unknown>>;
  buyer_name: string;
  /** The seller profile as it was when the document was issued. */
  seller: NullableJson<Record<string, unknown>>;
  notes: NullableText;
  /** Card payment on or off for this document; null follows the merchant's setting. */
  card_payment: ColumnType<boolean | null, boolean | null | undefined, boolean | null>;
  net: ColumnType<number, number | undefined, number>;
  vat_total: ColumnType<number, number | undefined, number>;
  total: ColumnType<number, number | undefined, number>;
  vat_breakdown: ColumnType<unknown[], string | undefined, string>;
  amount_paid: ColumnType<number, number | undefined, number>;
  related_invoice_id: NullableText;
  storno_of_id: NullableText;
  pay_token: NullableText;
  issued_at: NullableTimestamp;
  paid_at: NullableTimestamp;
  canceled_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface InvoiceLinesTable {
  invoice_id: string;
  position: number;
  description: string;
  quantity_thousandths: number;
  unit: string;
  unit_price: number;
  vat_rate: '21' | '11' | '9' | '0' | 'exempt';
  net: number;
}

export interface InvoiceCollectionsTable {
  id: string;
  merchant_id: string;
  invoice_id: string;
  collected_on: DateText;
  amount: number;
  currency: string;
  method: 'card' | 'bank' | 'cash';
  processor: NullableText;
  processor_reference: NullableText;
  payment_id: NullableText;
  reversed_by_id: NullableText;
  /** Beyond the amount due (a second success on a paid invoice): not counted into the amount paid. */
  overpayment: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
}

export interface InvoicePaymentsTable {
  payment_id: string;
  invoice_id: string;
  merchant_id: string;
  created_at: Timestamp;
}

export interface Database {
  merchants: MerchantsTable;
  merchant_api_keys: MerchantApiKeysTable;
  connections: ConnectionsTable;
  payments: PaymentsTable;
  payment_attempts: PaymentAttemptsTable;
  notifications: NotificationsTable;
  events: EventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  refunds: RefundsTable;
  payment_steps: PaymentStepsTable;
  onpay_partners: OnpayPartnersTable;
  onpay_users: OnpayUsersTable;
  onpay_links: OnpayLinksTable;
  onpay_payment_methods: OnpayPaymentMethodsTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable;
  idempotency_keys: IdempotencyKeysTable;
  users: UsersTable;
  user_sessions: UserSessionsTable;
  user_password_tokens: UserPasswordTokensTable;
  invoice_seller_profiles: InvoiceSellerProfilesTable;
  invoice_series: InvoiceSeriesTable;
  invoice_settings: InvoiceSettingsTable;
  invoices: InvoicesTable;
  invoice_lines: InvoiceLinesTable;
  invoice_collections: InvoiceCollectionsTable;
  invoice_payments: InvoicePaymentsTable;
}

export type Merchant = Selectable<MerchantsTable>;
export type MerchantApiKey = Selectable<MerchantApiKeysTable>;
export type Connection = Selectable<ConnectionsTable>;
export type Payment = Selectable<PaymentsTable>;
export type PaymentAttempt = Selectable<PaymentAttemptsTable>;
export type Notification = Selectable<NotificationsTable>;
export type EventRow = Selectable<EventsTable>;
export type WebhookEndpoint = Selectable<WebhookEndpointsTable>;
export type WebhookDelivery = Selectable<WebhookDeliveriesTable>;
export type NewPayment = Insertable<PaymentsTable>;
export type PaymentUpdate = Updateable<PaymentsTable>;
export type Refund = Selectable<RefundsTable>;
export type PaymentStep = Selectable<PaymentStepsTable>;
export type User = Selectable<UsersTable>;
export type UserSession = Selectable<UserSessionsTable>;
export type InvoiceSellerProfile = Selectable<InvoiceSellerProfilesTable>;
export type InvoiceSeries = Selectable<InvoiceSeriesTable>;
export type InvoiceSettings = Selectable<InvoiceSettingsTable>;
export type Invoice = Selectable<InvoicesTable>;
export type NewInvoice = Insertable<InvoicesTable>;
export type InvoiceLine = Selectable<InvoiceLinesTable>;
export type InvoiceCollection = Selectable<InvoiceCollectionsTable>;
