import type { ColumnType, Generated, Kysely } from 'kysely';
import {
  deliveryTablesDdl,
  type AttemptLogColumns,
  type BigIntColumn,
  type DeliveryTableNames,
  type NullableTimestamp,
  type QueueStateColumns,
  type Timestamp,
} from '../shared/delivery-tables.js';
import { ensureEmulatorTables } from '../shared/schema.js';

/** The emulator's own tables (prefix `emu_multisafepay_`), created on start by ensureEmulatorSchema. */

/** MultiSafepay only retries or gives up: no merchant answer stops notifications for good. */
export type AttemptOutcome = 'delivered' | 'retry' | 'gave_up';

export interface EmuTables {
  emu_multisafepay_accounts: {
    api_key: string;
    name: string;
    created_at: Timestamp;
  };
  emu_multisafepay_orders: {
    id: Generated<number | string>;
    api_key: string;
    order_id: string;
    session_id: string;
    /** The PSP id of the order's current transaction (a new one per try on a payment link). */
    transaction_id: BigIntColumn;
    type: string;
    gateway: string | null;
    currency: string;
    amount: BigIntColumn;
    description: string;
    notification_url: string | null;
    notification_method: 'POST' | 'GET';
    redirect_url: string | null;
    cancel_url: string | null;
    /** The customer object as the merchant sent it (only known fields kept). */
    customer: ColumnType<Record<string, unknown>, string, string>;
    var1: string | null;
    var2: string | null;
    var3: string | null;
    status: string;
    financial_status: string;
    payment_type: string | null;
    last4: string | null;
    card_expiry_date: string | null;
    account_holder_name: string | null;
    reason: string | null;
    reason_code: string | null;
    response_code: string | null;
    /** A card waiting at the 3-D Secure step: brand, last4, expiry, holder and the issuer's answer after it. */
    pending_card: ColumnType<Record<string, unknown> | null, string | null, string | null>;
    amount_refunded: ColumnType<number | string, number | undefined, number>;
    tries: ColumnType<number, number | undefined, number>;
    expires_at: Timestamp;
    /** An uncleared payment's review ends at `resolve_at` with `resolve_to` (completed or void). */
    resolve_at: NullableTimestamp;
    resolve_to: string | null;
    created_at: Timestamp;
    modified_at: Timestamp;
    completed_at: NullableTimestamp;
  };
  emu_multisafepay_refunds: {
    id: Generated<number | string>;
    order_pk: BigIntColumn;
    api_key: string;
    refund_order_id: string | null;
    transaction_id: BigIntColumn;
    amount: BigIntColumn;
    currency: string;
    description: string;
    created_at: Timestamp;
  };
  emu_multisafepay_notifications: QueueStateColumns & {
    order_pk: BigIntColumn;
    /** The order object when the status changed; every attempt sends these bytes, with a fresh timestamp. */
    body: string;
    order_status: string;
  };
  emu_multisafepay_notification_attempts: AttemptLogColumns<AttemptOutcome> & {
    notification_id: BigIntColumn;
    reply: string | null;
  };
}

export type EmuDb = Kysely<EmuTables>;

/** The notification queue and its attempt log, as the Notifier works them. */
export const NOTIFICATION_QUEUE: DeliveryTableNames = {
  table: 'emu_multisafepay_notifications',
  attemptLog: { table: 'emu_multisafepay_notification_attempts', deliveryColumn: 'notification_id', keepsReplies: true },
};

// One statement per entry: PGlite runs a single statement per query.
const DDL: readonly string[] = [
  `CREATE SEQUENCE IF NOT EXISTS emu_multisafepay_transaction_seq START WITH 8000001`,
  `CREATE TABLE IF NOT EXISTS emu_multisafepay_accounts (
    api_key text PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE IF NOT EXISTS emu_multisafepay_orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    api_key text NOT NULL REFERENCES emu_multisafepay_accounts (api_key),
    order_id text NOT NULL,
    session_id text NOT NULL UNIQUE,
    transaction_id bigint NOT NULL,
    type text NOT NULL,
    gateway text,
    currency char(3) NOT NULL,
    amount bigint NOT NULL CHECK (amount > 0),
    description text NOT NULL,
    notification_url text,
    notification_method text NOT NULL CHECK (notification_method IN ('POST', 'GET')),
    redirect_url text,
    cancel_url text,
    customer jsonb NOT NULL,
    var1 text,
    var2 text,
    var3 text,
    status text NOT NULL,
    financial_status text NOT NULL,
    payment_type text,
    last4 text,
    card_expiry_date text,
    account_holder_name text,
    reason text,
    reason_code text,
    response_code text,
    pending_card jsonb,
    amount_refunded bigint NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0 AND amount_refunded <= amount),
    tries integer NOT NULL DEFAULT 0,
    expires_at timestamptz NOT NULL,
    resolve_at timestamptz,
    resolve_to text,
    created_at timestamptz NOT NULL DEFAULT now(),
    modified_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    UNIQUE (api_key, order_id)
  )`,
  `CREATE INDEX IF NOT EXISTS emu_multisafepay_orders_expiry_idx
    ON emu_multisafepay_orders (expires_at) WHERE status IN ('initialized', 'declined')`,
  `CREATE INDEX IF NOT EXISTS emu_multisafepay_orders_review_idx
    ON emu_multisafepay_orders (resolve_at) WHERE status = 'uncleared'`,
  `CREATE TABLE IF NOT EXISTS emu_multisafepay_refunds (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_pk bigint NOT NULL REFERENCES emu_multisafepay_orders (id),
    api_key text NOT NULL,
    refund_order_id text,
    transaction_id bigint NOT NULL,
    amount bigint NOT NULL CHECK (amount > 0),
    currency char(3) NOT NULL,
    description text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (api_key, refund_order_id)
  )`,
  ...deliveryTablesDdl(NOTIFICATION_QUEUE, {
    columns: `order_pk bigint NOT NULL REFERENCES emu_multisafepay_orders (id),
    body text NOT NULL,
    order_status text NOT NULL`,
    outcomes: ['delivered', 'retry', 'gave_up'],
  }),
  `CREATE INDEX IF NOT EXISTS emu_multisafepay_notifications_order_idx
    ON emu_multisafepay_notifications (order_pk, id)`,
];

export async function ensureEmulatorSchema(db: Kysely<any>): Promise<void> {
  await ensureEmulatorTables(db, 'emu_multisafepay_schema', DDL);
}
