import type { ColumnType, Kysely } from 'kysely';
import {
  deliveryTablesDdl,
  type AttemptLogColumns,
  type BigIntColumn,
  type DeliveryTableNames,
  type QueueStateColumns,
  type Timestamp,
} from '../shared/delivery-tables.js';
import { ensureEmulatorTables } from '../shared/schema.js';

/** The NETOPIA v2 emulator's own tables (prefix `emu_netopia_v2_`), created on start by ensureNetopiaV2Schema. */

type Nullable<T> = ColumnType<T | null, T | null | undefined, T | null>;

/**
 * NETOPIA's `payment.status` values the emulator produces (protocols/netopia.md §2.6): 1 new (waiting on the
 * hosted page), 15 waiting for 3-D Secure, 3 paid, 12 declined, 8 credited (partly or fully).
 */
export type PaymentStatus = 1 | 3 | 8 | 12 | 15;
/** How the order was started: hosted card page (no card data) or card data sent by the merchant. */
export type OrderMode = 'hosted' | 'direct';

export interface EmuV2Tables {
  emu_netopia_v2_platform_key: {
    id: number;
    private_key_pem: string;
    public_key_pem: string;
    created_at: Timestamp;
  };
  emu_netopia_v2_accounts: {
    signature: string;
    name: string;
    /** SHA-256 of the API key, hex: the key itself is shown once, when the account is made. */
    api_key_hash: string;
    created_at: Timestamp;
  };
  emu_netopia_v2_orders: {
    ntp_id: ColumnType<number | string, never, never>;
    signature: string;
    order_id: string;
    mode: OrderMode;
    description: string;
    currency: string;
    amount_minor: BigIntColumn;
    /** `order.data` as sent: status answers and IPNs echo it. */
    order_data: ColumnType<Record<string, string>, string, string>;
    billing: ColumnType<Record<string, unknown>, string, string>;
    notify_url: string;
    redirect_url: string;
    cancel_url: string | null;
    language: string;
    /** The secret part of the hosted page's URL (paymentURL); unguessable, unlike the ntpID. */
    page_token: string;
    status: PaymentStatus;
    /** The latest `error.code`/`error.message` NETOPIA gave for the order (101 while it waits for a card). */
    error_code: string;
    error_message: string;
    pan_masked: Nullable<string>;
    bin: Nullable<string>;
    exp_month: Nullable<number>;
    exp_year: Nullable<number>;
    auth_code: Nullable<string>;
    rrn: Nullable<string>;
    /** Issued on approval; a later start may pay with it instead of card data. */
    token: Nullable<string>;
    /** 3-D Secure step: the paReq the ACS receives, the token verify-auth must echo, and the two paRes answers. */
    pa_req: Nullable<string>;
    authentication_token: Nullable<string>;
    pa_res_ok: Nullable<string>;
    pa_res_fail: Nullable<string>;
    paid_minor: ColumnType<number | string, number | undefined, number>;
    credited_minor: ColumnType<number | string, number | undefined, number>;
    created_at: Timestamp;
    updated_at: Timestamp;
  };
  emu_netopia_v2_ipn_deliveries: QueueStateColumns & {
    ntp_id: BigIntColumn;
    /** The `payment.status` the IPN reports. */
    payment_status: number;
    code: string;
    /** The exact JSON body: every attempt sends these bytes, so the JWT `sub` is stable across retries. */
    body: string;
  };
  /** `failed` is among the outcomes: a merchant's errorType 2 is final. */
  emu_netopia_v2_ipn_attempts: AttemptLogColumns & {
    delivery_id: BigIntColumn;
    reply: string | null;
  };
}

export type EmuV2Db = Kysely<EmuV2Tables>;

/** The IPN queue and its attempt log, as the IpnSender works them. */
export const IPN_QUEUE: DeliveryTableNames = {
  table: 'emu_netopia_v2_ipn_deliveries',
  attemptLog: { table: 'emu_netopia_v2_ipn_attempts', deliveryColumn: 'delivery_id', keepsReplies: true },
};

// One statement per entry: PGlite runs a single statement per query.
const DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS emu_netopia_v2_platform_key (
    id smallint PRIMARY KEY CHECK (id = 1),
    private_key_pem text NOT NULL,
    public_key_pem text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE IF NOT EXISTS emu_netopia_v2_accounts (
    signature text PRIMARY KEY,
    name text NOT NULL,
    api_key_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  // ntpIDs start in the range of NETOPIA's sandbox samples (1309088, 1310396) so they look real in logs.
  `CREATE TABLE IF NOT EXISTS emu_netopia_v2_orders (
    ntp_id bigint GENERATED ALWAYS AS IDENTITY (START WITH 1400001) PRIMARY KEY,
    signature text NOT NULL REFERENCES emu_netopia_v2_accounts (signature),
    order_id text NOT NULL,
    mode text NOT NULL CHECK (mode IN ('hosted', 'direct')),
    description text NOT NULL,
    currency char(3) NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    order_data jsonb NOT NULL,
    billing jsonb NOT NULL,
    notify_url text NOT NULL,
    redirect_url text NOT NULL,
    cancel_url text,
    language text NOT NULL,
    page_token text NOT NULL UNIQUE,
    status smallint NOT NULL CHECK (status IN (1, 3, 8, 12, 15)),
    error_code text NOT NULL,
    error_message text NOT NULL,
    pan_masked text,
    bin text,
    exp_month smallint,
    exp_year smallint,
    auth_code text,
    rrn text,
    token text UNIQUE,
    pa_req text UNIQUE,
    authentication_token text,
    pa_res_ok text,
    pa_res_fail text,
    paid_minor bigint NOT NULL DEFAULT 0 CHECK (paid_minor >= 0),
    credited_minor bigint NOT NULL DEFAULT 0 CHECK (credited_minor >= 0 AND credited_minor <= paid_minor),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (signature, order_id)
  )`,
  ...deliveryTablesDdl(IPN_QUEUE, {
    columns: `ntp_id bigint NOT NULL REFERENCES emu_netopia_v2_orders (ntp_id),
    payment_status smallint NOT NULL,
    code text NOT NULL,
    body text NOT NULL`,
    outcomes: ['delivered', 'retry', 'failed', 'gave_up'],
  }),
  `CREATE INDEX IF NOT EXISTS emu_netopia_v2_ipn_deliveries_order_idx
    ON emu_netopia_v2_ipn_deliveries (ntp_id, id)`,
];

export async function ensureNetopiaV2Schema(db: Kysely<any>): Promise<void> {
  await ensureEmulatorTables(db, 'emu_netopia_v2_schema', DDL);
}
