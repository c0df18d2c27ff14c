import { sql, type Kysely } from 'kysely';

/**
 * Forward-only migrations, applied in order under a PostgreSQL advisory lock so that several hub processes
 * starting at once against one database apply each migration exactly once.
 */
export const MIGRATIONS: ReadonlyArray<{ id: string; sql: string }> = [
  {
    id: '001_core',
    sql: `
CREATE TABLE merchants (
  id text PRIMARY KEY,
  name text NOT NULL,
  api_key_hash text NOT NULL UNIQUE,
  api_key_prefix text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE connections (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants(id),
  code text NOT NULL,
  provider text NOT NULL,
  environment text NOT NULL,
  credentials_encrypted text NOT NULL,
  credentials_fingerprint text NOT NULL,
  settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL DEFAULT 'active',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (merchant_id, code)
);

CREATE TABLE payments (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants(id),
  connection_id text NOT NULL REFERENCES connections(id),
  order_id text NOT NULL,
  amount bigint NOT NULL CHECK (amount >= 0),
  currency char(3) NOT NULL,
  description text NOT NULL,
  billing jsonb NOT NULL,
  shipping jsonb,
  return_url text,
  expires_at timestamptz,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL,
  amount_authorized bigint NOT NULL DEFAULT 0,
  amount_captured bigint NOT NULL DEFAULT 0,
  amount_refunded bigint NOT NULL DEFAULT 0,
  paid_late boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_merchant_id_idx ON payments (merchant_id, id DESC);
CREATE INDEX payments_merchant_order_idx ON payments (merchant_id, order_id);
CREATE INDEX payments_expiry_idx ON payments (expires_at) WHERE status = 'pending';

CREATE TABLE payment_attempts (
  id text PRIMARY KEY,
  payment_id text NOT NULL REFERENCES payments(id),
  number integer NOT NULL,
  provider text NOT NULL,
  status text NOT NULL,
  amount bigint NOT NULL,
  currency char(3) NOT NULL,
  processor_reference text,
  action text,
  error_code text,
  error_message text,
  pan_masked text,
  redirect jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (payment_id, number)
);

CREATE TABLE notifications (
  id text PRIMARY KEY,
  provider text NOT NULL,
  connection_id text,
  merchant_id text,
  payment_id text,
  attempt_id text,
  received_at timestamptz NOT NULL DEFAULT now(),
  remote_addr text,
  content_type text,
  body bytea NOT NULL,
  status text NOT NULL,
  dedupe_key text,
  summary jsonb,
  error text,
  processed_at timestamptz
);
CREATE INDEX notifications_payment_idx ON notifications (payment_id, received_at);
CREATE INDEX notifications_dedupe_idx ON notifications (connection_id, dedupe_key) WHERE status = 'applied';
CREATE INDEX notifications_pending_idx ON notifications (received_at) WHERE status = 'received';

CREATE TABLE events (
  id text PRIMARY KEY,
  merchant_id text NOT NULL,
  type text NOT NULL,
  payment_id text,
  payload text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_merchant_idx ON events (merchant_id, id DESC);

CREATE TABLE webhook_endpoints (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants(id),
  url text NOT NULL,
  events jsonb NOT NULL,
  secret_encrypted text NOT NULL,
  status text NOT NULL DEFAULT 'active',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
  id text PRIMARY KEY,
  event_id text NOT NULL REFERENCES events(id),
  endpoint_id text NOT NULL REFERENCES webhook_endpoints(id),
  merchant_id text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  last_status_code integer,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC);

CREATE TABLE webhook_delivery_attempts (
  id bigserial PRIMARY KEY,
  delivery_id text NOT NULL REFERENCES webhook_deliveries(id),
  attempted_at timestamptz NOT NULL DEFAULT now(),
  status_code integer,
  duration_ms integer NOT NULL,
  error text,
  response_body text
);
CREATE INDEX webhook_delivery_attempts_idx ON webhook_delivery_attempts (delivery_id, id);

CREATE TABLE idempotency_keys (
  merchant_id text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  response_status integer NOT NULL,
  response_body jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, key)
);
`,
  },
  {
    id: '002_operations_refunds_payment_steps',
    sql: `
-- Where a processor statement came from: its notification, or its answer to one of the hub's calls.
ALTER TABLE notifications ADD COLUMN source text NOT NULL DEFAULT 'notification';
-- What a signature may cover besides the body (a JWT header, an HMAC header, signed query parameters), so that a
-- stored notification can be verified again after a crash exactly as it arrived.
ALTER TABLE notifications ADD COLUMN headers jsonb;
ALTER TABLE notifications ADD COLUMN query text;

-- When the reconciliation janitor last asked the processor about this attempt.
ALTER TABLE payment_attempts ADD COLUMN reconciled_at timestamptz;
CREATE INDEX payment_attempts_open_idx ON payment_attempts (created_at) WHERE status IN ('created', 'processing', 'authorized');

CREATE TABLE refunds (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants(id),
  payment_id text NOT NULL REFERENCES payments(id),
  attempt_id text NOT NULL REFERENCES payment_attempts(id),
  amount bigint NOT NULL CHECK (amount > 0),
  currency char(3) NOT NULL,
  refunded_before bigint NOT NULL,
  reason text,
  status text NOT NULL,
  error_code text,
  error_message text,
  locked_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_payment_idx ON refunds (payment_id, created_at);
CREATE INDEX refunds_open_idx ON refunds (updated_at) WHERE status IN ('pending', 'processing');

-- A webhook endpoint may be scoped to one payment (a conversation's callback URL).
ALTER TABLE webhook_endpoints ADD COLUMN payment_id text;

CREATE TABLE payment_steps (
  merchant_id text NOT NULL REFERENCES merchants(id),
  conversation_id text NOT NULL,
  step text NOT NULL,
  connection_id text NOT NULL REFERENCES connections(id),
  payment_id text NOT NULL REFERENCES payments(id),
  request_hash text NOT NULL,
  language text NOT NULL,
  callback_endpoint_id text,
  processor_response text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, conversation_id, step)
);
CREATE INDEX payment_steps_payment_idx ON payment_steps (payment_id);
`,
  },
  {
    id: '003_onpay',
    sql: `
-- What each applied processor statement did to the ledger (captured, failed, refunded, ...).
ALTER TABLE notifications ADD COLUMN outcome text;

-- OnPay partners: a merchant of the hub, with the one-time activation key and the production key (hashes only).
CREATE TABLE onpay_partners (
  merchant_id text PRIMARY KEY REFERENCES merchants(id),
  activation_key_hash text NOT NULL UNIQUE,
  activated_at timestamptz,
  key_hash text UNIQUE,
  key_prefix text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- An end user: the quadruple key - gateway - gatewayApiKey - gatewaySecretKey, per side (test or production).
-- The credentials themselves live encrypted in the connection; the quadruple is found by its hash.
CREATE TABLE onpay_users (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants(id),
  side text NOT NULL,
  gateway text NOT NULL,
  quadruple_hash text NOT NULL,
  connection_id text NOT NULL REFERENCES connections(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (merchant_id, side, gateway, quadruple_hash)
);

CREATE TABLE onpay_links (
  user_id text NOT NULL REFERENCES onpay_users(id),
  ext_id text NOT NULL,
  payment_id text NOT NULL REFERENCES payments(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, ext_id)
);
CREATE INDEX onpay_links_payment_idx ON onpay_links (payment_id);
CREATE INDEX onpay_links_created_idx ON onpay_links (user_id, created_at);

-- Payment methods as acquirers name them, numbered in the order first seen, with a merged code per family.
CREATE TABLE onpay_payment_methods (
  code_number serial PRIMARY KEY,
  code_description text NOT NULL UNIQUE,
  family text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    id: '004_webhook_fairness_notification_retention',
    sql: `
-- Each merchant's due deliveries in order (the fair claim looks at every merchant's first few), and the leases
-- out now (what each endpoint and merchant has in flight, for the caps).
CREATE INDEX webhook_deliveries_merchant_due_idx ON webhook_deliveries (merchant_id, next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_leased_idx ON webhook_deliveries (merchant_id, endpoint_id) WHERE status = 'pending' AND locked_until IS NOT NULL;

-- Of a notification that was never authenticated only an excerpt is kept (flagged here, with the size it had),
-- and such rows are purged after the retention period.
ALTER TABLE notifications ADD COLUMN body_excerpt boolean NOT NULL DEFAULT false;
ALTER TABLE notifications ADD COLUMN body_length integer;
CREATE INDEX notifications_rejected_idx ON notifications (received_at) WHERE status = 'rejected' AND body_excerpt;
-- Rows kept whole before this migration: a notification refused before any ledger check (unknown connection,
-- failed verification) has no summary.
UPDATE notifications SET body_excerpt = true, body_length = octet_length(body), body = substring(body from 1 for 4096)
WHERE status = 'rejected' AND source = 'notification' AND summary IS NULL;
`,
  },
  {
    id: '005_unknown_attempts',
    sql: `
-- Attempts whose outcome is unknown (the answer to the hub's start was lost), found by the worker's prompt
-- status check every poll.
CREATE INDEX payment_attempts_unknown_idx ON payment_attempts (updated_at) WHERE status = 'unknown';
`,
  },
  {
    id: '006_console_users',
    sql: `
-- The web console's people: the operator (no merchant) and a merchant's admins and viewers. A password is set
-- through a one-time link; until then password_hash is NULL and the user cannot log in. E-mails are stored
-- lower-cased. Failed logins in a row and the time the account may try again throttle guessing across every
-- hub process on the database.
CREATE TABLE users (
  id text PRIMARY KEY,
  email text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('operator', 'admin', 'viewer')),
  merchant_id text REFERENCES merchants(id),
  password_hash text,
  language text NOT NULL DEFAULT 'en' CHECK (language IN ('ro', 'en', 'it')),
  failed_logins integer NOT NULL DEFAULT 0,
  login_blocked_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz,
  CHECK ((role = 'operator') = (merchant_id IS NULL))
);
CREATE INDEX users_merchant_idx ON users (merchant_id);

-- Console sessions, shared by every hub process: only the SHA-256 of the cookie's token is stored.
CREATE TABLE user_sessions (
  token_hash text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id);
CREATE INDEX user_sessions_expiry_idx ON user_sessions (expires_at);

-- One-time links to set a password (hashed like sessions), each used at most once.
CREATE TABLE user_password_tokens (
  token_hash text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users(id),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    id: '007_webhook_secret_rotation',
    sql: `
-- A rotated endpoint's previous signing secret, kept (encrypted) for a while after the rotation: deliveries until
-- then carry a signature with each secret, so a receiver that has not switched yet keeps accepting them.
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret_encrypted text;
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret_expires_at timestamptz;
`,
  },
  {
    id: '008_merchant_api_keys_user_logins',
    sql: `
-- A merchant's API keys: several, each named, created (the key shown once; only its SHA-256 is stored) and
-- revoked (kept, with revoked_at, so the console can show who had which key). last_used_at is written at most once
-- a minute per key. Each merchant's single key (merchants.api_key_hash) moves here, named "default", and keeps working.
CREATE TABLE merchant_api_keys (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants(id),
  name text NOT NULL,
  prefix text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX merchant_api_keys_merchant_idx ON merchant_api_keys (merchant_id, created_at);
INSERT INTO merchant_api_keys (id, merchant_id, name, prefix, key_hash, created_at)
  SELECT 'key_' || substr(md5(id || api_key_hash), 1, 26), id, 'default', api_key_prefix, api_key_hash, created_at FROM merchants;
ALTER TABLE merchants DROP COLUMN api_key_hash;
ALTER TABLE merchants DROP COLUMN api_key_prefix;

-- When a console user last logged in (shown in the console's team page).
ALTER TABLE users ADD COLUMN last_login_at timestamptz;
`,
  },
  {
    id: '009_operator_health',
    sql: `
-- The operator's health page: notifications refused in the last hour (by reason), and webhook deliveries that
-- failed for good, found without reading the whole tables.
CREATE INDEX notifications_refused_idx ON notifications (received_at) WHERE status = 'rejected';
CREATE INDEX webhook_deliveries_failed_idx ON webhook_deliveries (created_at) WHERE status = 'failed';
`,
  },
  {
    id: '010_invoices',
    sql: `
-- Invoices (proformas and fiscal invoices) and their collections. A merchant's seller profile is copied onto each
-- document when it is issued, so an issued document never changes when the profile does.
CREATE TABLE invoice_seller_profiles (
  merchant_id text PRIMARY KEY REFERENCES merchants(id),
  name text NOT NULL,
  fiscal_code text NOT NULL,
  trade_register text,
  address text NOT NULL,
  city text NOT NULL,
  county text,
  country char(2) NOT NULL DEFAULT 'RO',
  iban text,
  bank text,
  vat_payer boolean NOT NULL,
  email text,
  phone text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Numbering series, per merchant and kind (fixed by the merchant's internal decision). next_number is taken under a
-- row lock of the series inside the transaction that issues a document: consecutive, no gap, no reuse.
CREATE TABLE invoice_series (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants(id),
  kind text NOT NULL CHECK (kind IN ('proforma', 'invoice')),
  prefix text NOT NULL,
  next_number bigint NOT NULL CHECK (next_number >= 1),
  padding integer NOT NULL DEFAULT 0 CHECK (padding BETWEEN 0 AND 12),
  is_default boolean NOT NULL DEFAULT false,
  last_issued_number bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (merchant_id, kind, prefix)
);
CREATE UNIQUE INDEX invoice_series_default_idx ON invoice_series (merchant_id, kind) WHERE is_default;

-- The three settings of the invoicing module, per merchant.
CREATE TABLE invoice_settings (
  merchant_id text PRIMARY KEY REFERENCES merchants(id),
  card_payment_default boolean NOT NULL DEFAULT false,
  auto_fiscal_from_proforma boolean NOT NULL DEFAULT false,
  auto_collection boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Documents. series_id + number are null while a draft has no number; full_number is prefix + number as printed.
-- related_invoice_id links a proforma and the fiscal invoice made from it (both ways); storno_of_id is the fiscal
-- invoice a storno corrects. pay_token: the public pay link's random secret (set at issue).
CREATE TABLE invoices (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants(id),
  kind text NOT NULL CHECK (kind IN ('proforma', 'invoice')),
  status text NOT NULL CHECK (status IN ('draft', 'issued', 'paid', 'canceled')),
  series_id text REFERENCES invoice_series(id),
  number bigint,
  full_number text,
  issue_date date,
  due_date date,
  currency char(3) NOT NULL DEFAULT 'RON',
  language text NOT NULL DEFAULT 'ro' CHECK (language IN ('ro', 'en', 'it')),
  buyer jsonb NOT NULL,
  buyer_name text NOT NULL,
  seller jsonb,
  notes text,
  card_payment boolean,
  net bigint NOT NULL DEFAULT 0,
  vat_total bigint NOT NULL DEFAULT 0,
  total bigint NOT NULL DEFAULT 0,
  vat_breakdown jsonb NOT NULL DEFAULT '[]'::jsonb,
  amount_paid bigint NOT NULL DEFAULT 0,
  related_invoice_id text REFERENCES invoices(id),
  storno_of_id text REFERENCES invoices(id),
  pay_token text UNIQUE,
  issued_at timestamptz,
  paid_at timestamptz,
  canceled_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (series_id, number),
  CHECK (status <> 'draft' OR number IS NULL),
  CHECK (status NOT IN ('issued', 'paid') OR (number IS NOT NULL AND issue_date IS NOT NULL))
);
CREATE INDEX invoices_merchant_status_idx ON invoices (merchant_id, status, issue_date DESC, id DESC);
CREATE INDEX invoices_merchant_id_idx ON invoices (merchant_id, id DESC);
CREATE INDEX invoices_merchant_buyer_idx ON invoices (merchant_id, lower(buyer_name) text_pattern_ops);
-- One fiscal invoice per proforma, one storno per invoice, whatever the timing.
CREATE UNIQUE INDEX invoices_from_proforma_idx ON invoices (related_invoice_id) WHERE kind = 'invoice' AND related_invoice_id IS NOT NULL;
CREATE UNIQUE INDEX invoices_storno_idx ON invoices (storno_of_id) WHERE storno_of_id IS NOT NULL;

CREATE TABLE invoice_lines (
  invoice_id text NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
  position integer NOT NULL,
  description text NOT NULL,
  quantity_thousandths bigint NOT NULL,
  unit text NOT NULL,
  unit_price bigint NOT NULL,
  vat_rate text NOT NULL CHECK (vat_rate IN ('21', '11', '9', '0', 'exempt')),
  net bigint NOT NULL,
  PRIMARY KEY (invoice_id, position)
);

-- Collections ("încasări"): what was collected for a document. A refund is a negative collection that reverses
-- the original (reversed_by_id on the original).
CREATE TABLE invoice_collections (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants(id),
  invoice_id text NOT NULL REFERENCES invoices(id),
  collected_on date NOT NULL,
  amount bigint NOT NULL,
  currency char(3) NOT NULL,
  method text NOT NULL CHECK (method IN ('card', 'bank', 'cash')),
  processor text,
  processor_reference text,
  payment_id text REFERENCES payments(id),
  reversed_by_id text REFERENCES invoice_collections(id),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoice_collections_invoice_idx ON invoice_collections (invoice_id, created_at);
CREATE INDEX invoice_collections_merchant_idx ON invoice_collections (merchant_id, collected_on DESC, id DESC);
CREATE UNIQUE INDEX invoice_collections_payment_idx ON invoice_collections (invoice_id, payment_id) WHERE payment_id IS NOT NULL AND amount > 0;
`,
  },
  {
    id: '011_invoice_payments',
    sql: `
-- The surface a payment was made for (NULL: an API or compat payment; 'invoice': an invoice's pay link), set once at
-- creation. The ledger's hooks decide from the payment row the ledger read anyway whether they must see a change,
-- so a surface's hook takes the locked path only for its own payments and every other notification keeps the fast path.
ALTER TABLE payments ADD COLUMN surface text;

-- Which invoice a payment pays (one invoice per payment; an invoice may have several payments: attempts on two
-- processors, a retry after one expired).
CREATE TABLE invoice_payments (
  payment_id text PRIMARY KEY REFERENCES payments(id),
  invoice_id text NOT NULL REFERENCES invoices(id),
  merchant_id text NOT NULL REFERENCES merchants(id),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoice_payments_invoice_idx ON invoice_payments (invoice_id, created_at);

-- A collection beyond the amount due (a second processor's success after the invoice was paid): kept and shown,
-- never counted into the invoice's amount paid.
ALTER TABLE invoice_collections ADD COLUMN overpayment boolean NOT NULL DEFAULT false;
`,
  },
  {
    id: '012_webhook_delivery_log_index',
    sql: `
-- A merchant's delivery log, newest first (the console's and the API's listing, page after page by id): read from
-- the merchant's end of this index, instead of walking every merchant's deliveries by id.
CREATE INDEX webhook_deliveries_merchant_log_idx ON webhook_deliveries (merchant_id, id DESC);
`,
  },
];

export async function migrate(db: Kysely<any>): Promise<string[]> {
  const applied: string[] = [];
  await db.connection().execute(async (conn) => {
    // One advisory lock per schema: processes starting together on one schema serialize here, and hubs on other
    // schemas of the same database (tests, tenants) never wait for each other's migrations.
    await sql`SELECT pg_advisory_lock(hashtextextended('incasso.migrations.' || current_schema(), 0))`.execute(conn);
    try {
      await sql`CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`.execute(conn);
      const done = new Set((await sql<{ id: string }>`SELECT id FROM schema_migrations`.execute(conn)).rows.map((r) => r.id));
      for (const m of MIGRATIONS) {
        if (done.has(m.id)) continue;
        await conn.transaction().execute(async (trx) => {
          // One statement at a time: PGlite's extended-protocol query runs a single statement.
          for (const statement of m.sql
            .split(/;\s*\n/)
            .map((s) => s.trim())
            .filter(Boolean)) {
            await sql.raw(statement).execute(trx);
          }
          await sql`INSERT INTO schema_migrations (id) VALUES (${m.id})`.execute(trx);
        });
        applied.push(m.id);
      }
    } finally {
      await sql`SELECT pg_advisory_unlock(hashtextextended('incasso.migrations.' || current_schema(), 0))`.execute(conn);
    }
  });
  return applied;
}
