import type { ColumnType, Kysely, Selectable } from 'kysely';
import {
  deliveryTablesDdl,
  type AttemptLogColumns,
  type BigIntColumn,
  type DeliveryTableNames,
  type QueueStateColumns,
  type Timestamp,
} from '../shared/delivery-tables.js';
import { ensureEmulatorTables } from '../shared/schema.js';

/** The Volt emulator's own tables (prefix `emu_volt_`), created on start by ensureVoltEmulatorSchema. */
type Json<T> = ColumnType<T, string, string>;

/** Volt's flat payment statuses the emulator uses (GET /payments/{id}). */
export type PaymentStatus = 'NEW_PAYMENT' | 'BANK_REDIRECT' | 'COMPLETED' | 'REFUSED_BY_BANK' | 'CANCELLED_BY_USER' | 'ABANDONED_BY_USER';
/** Volt only retries or gives up: no merchant answer stops a notification for good. */
export type AttemptOutcome = 'delivered' | 'retry' | 'gave_up';

export interface StatusUpdate {
  createdAt: string;
  newStatus: string;
}

export interface Shopper {
  reference: string;
  email?: string;
  firstName?: string;
  lastName?: string;
}

export interface EmuVoltTables {
  emu_volt_accounts: {
    client_id: string;
    client_secret: string;
    username: string;
    password: string;
    notification_secret: string;
    name: string;
    /** The application's notification URL (Fuzebox); a payment's `notificationUrl` overrides it. */
    notification_url: string | null;
    created_at: Timestamp;
  };
  emu_volt_tokens: {
    access_token: string;
    refresh_token: string;
    client_id: string;
    expires_at: Timestamp;
    refresh_expires_at: Timestamp;
    created_at: Timestamp;
  };
  emu_volt_payments: {
    id: string;
    client_id: string;
    unique_reference: string;
    merchant_internal_reference: string | null;
    currency: string;
    amount: BigIntColumn;
    type: string;
    shopper: Json<Shopper>;
    notification_url: string | null;
    success_url: string | null;
    failure_url: string | null;
    pending_url: string | null;
    cancel_url: string | null;
    /** The `auth` of the checkout URL: the page is reachable only through the URL Volt handed out. */
    checkout_token: string;
    status: PaymentStatus;
    status_updates: Json<StatusUpdate[]>;
    bank_id: string | null;
    refunded: ColumnType<number | string, number | undefined, number>;
    created_at: Timestamp;
    updated_at: Timestamp;
  };
  emu_volt_refunds: {
    id: string;
    payment_id: string;
    client_id: string;
    amount: BigIntColumn;
    external_reference: string | null;
    idempotency_key: string | null;
    status: string;
    created_at: Timestamp;
  };
  emu_volt_notifications: QueueStateColumns & {
    client_id: string;
    payment_id: string | null;
    url: string;
    /** The exact bytes sent; each attempt signs them again with its own X-Volt-Timed. */
    body: string;
    /** X-Volt-Type, for the notifications that carry one (refunds). */
    volt_type: string | null;
  };
  emu_volt_notification_attempts: AttemptLogColumns<AttemptOutcome> & {
    notification_id: BigIntColumn;
    timed: string;
  };
}

export type EmuVoltDb = Kysely<EmuVoltTables>;

/** A sandbox account, as stored. Beside its table, not in accounts.ts: the payment code takes one, and must not depend on the account routes (which need the emulator's context, which holds the notifier, which needs the payments). */
export type Account = Selectable<EmuVoltTables['emu_volt_accounts']>;

/**
 * The notification queue and its attempt log, as the VoltNotifier works them. The log keeps the X-Volt-Timed
 * each attempt signed, and no reply text: Volt reads only the status code.
 */
export const NOTIFICATION_QUEUE: DeliveryTableNames = {
  table: 'emu_volt_notifications',
  attemptLog: { table: 'emu_volt_notification_attempts', deliveryColumn: 'notification_id', keepsReplies: false },
};

// One statement per entry: PGlite runs a single statement per query.
const DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS emu_volt_accounts (
    client_id text PRIMARY KEY,
    client_secret text NOT NULL,
    username text NOT NULL UNIQUE,
    password text NOT NULL,
    notification_secret text NOT NULL,
    name text NOT NULL,
    notification_url text,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE IF NOT EXISTS emu_volt_tokens (
    access_token text PRIMARY KEY,
    refresh_token text NOT NULL UNIQUE,
    client_id text NOT NULL REFERENCES emu_volt_accounts (client_id),
    expires_at timestamptz NOT NULL,
    refresh_expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE IF NOT EXISTS emu_volt_payments (
    id text PRIMARY KEY,
    client_id text NOT NULL REFERENCES emu_volt_accounts (client_id),
    unique_reference text NOT NULL,
    merchant_internal_reference text,
    currency char(3) NOT NULL,
    amount bigint NOT NULL CHECK (amount > 0),
    type text NOT NULL,
    shopper jsonb NOT NULL,
    notification_url text,
    success_url text,
    failure_url text,
    pending_url text,
    cancel_url text,
    checkout_token text NOT NULL,
    status text NOT NULL,
    status_updates jsonb NOT NULL,
    bank_id text,
    refunded bigint NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (client_id, unique_reference)
  )`,
  `CREATE INDEX IF NOT EXISTS emu_volt_payments_open_idx ON emu_volt_payments (created_at) WHERE status IN ('NEW_PAYMENT', 'BANK_REDIRECT')`,
  `CREATE TABLE IF NOT EXISTS emu_volt_refunds (
    id text PRIMARY KEY,
    payment_id text NOT NULL REFERENCES emu_volt_payments (id),
    client_id text NOT NULL REFERENCES emu_volt_accounts (client_id),
    amount bigint NOT NULL CHECK (amount > 0),
    external_reference text,
    idempotency_key text,
    status text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (client_id, idempotency_key)
  )`,
  ...deliveryTablesDdl(NOTIFICATION_QUEUE, {
    columns: `client_id text NOT NULL REFERENCES emu_volt_accounts (client_id),
    payment_id text REFERENCES emu_volt_payments (id),
    url text NOT NULL,
    body text NOT NULL,
    volt_type text`,
    logColumns: 'timed text NOT NULL',
    outcomes: ['delivered', 'retry', 'gave_up'],
  }),
  `CREATE INDEX IF NOT EXISTS emu_volt_notifications_payment_idx ON emu_volt_notifications (payment_id, id)`,
];

export async function ensureVoltEmulatorSchema(db: Kysely<any>): Promise<void> {
  await ensureEmulatorTables(db, 'emu_volt_schema', DDL);
}
