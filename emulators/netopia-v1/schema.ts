import { sql, type ColumnType, type Generated, type Kysely } from 'kysely';
import type { V1Mobilpay } from '../../src/connectors/netopia-v1/ipn-xml.js';

/**
 * The emulator's own tables (prefix `emu_netopia_v1_`). They are not hub migrations: the emulator plays a
 * separate company and creates what it needs on start, idempotently, in whatever database it is given.
 */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** bigint columns: node-postgres returns text unless the host set a parser, so readers go through Number(). */
type BigIntColumn = ColumnType<number | string, number, number>;

/** Where an order is in NETOPIA's life cycle. `open`/`three_ds` still accept the card; the rest are finished. */
export type OrderStatus = 'open' | 'three_ds' | 'declined' | 'preauthorized' | 'confirmed' | 'credited' | 'canceled';
export type CaptureMode = 'auto' | 'manual';
export type IpnCipher = 'rc4' | 'aes-256-cbc';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';
export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'gave_up';

export interface EmuTables {
  emu_netopia_v1_platform_key: {
    id: number;
    private_key_pem: string;
    certificate_pem: string;
    created_at: Timestamp;
  };
  emu_netopia_v1_accounts: {
    signature: string;
    name: string;
    capture: CaptureMode;
    /** Only the public half: NETOPIA hands the private key to the merchant once and never needs it. */
    ipn_public_key_pem: string;
    created_at: Timestamp;
  };
  emu_netopia_v1_orders: {
    purchase: ColumnType<number | string, never, never>;
    signature: string;
    order_id: string;
    lang: string;
    /** The decrypted request exactly as received: IPNs echo it unchanged. */
    request_xml: string;
    currency: string;
    amount_minor: BigIntColumn;
    amount_ron: BigIntColumn;
    details: string;
    confirm_url: string;
    return_url: string;
    ipn_cipher: IpnCipher;
    capture: CaptureMode;
    status: OrderStatus;
    error_code: number | null;
    pan_masked: string | null;
    rrn: string | null;
    payment_instrument_id: string | null;
    captured_ron: ColumnType<number | string, number | undefined, number>;
    credited_ron: ColumnType<number | string, number | undefined, number>;
    created_at: Timestamp;
    updated_at: Timestamp;
  };
  emu_netopia_v1_ipn_deliveries: {
    id: ColumnType<number | string, never, never>;
    purchase: BigIntColumn;
    action: V1Mobilpay['action'];
    error_code: number;
    crc: string;
    /** The `<mobilpay>` element's content; the XML is rebuilt from it and the order's request on every attempt. */
    mobilpay: ColumnType<V1Mobilpay, string, string>;
    status: DeliveryStatus;
    attempts: Generated<number>;
    next_attempt_at: ColumnType<Date | null, Date | string | null, Date | string | null>;
    created_at: Timestamp;
    updated_at: Timestamp;
  };
  emu_netopia_v1_ipn_attempts: {
    id: Generated<number | string>;
    delivery_id: BigIntColumn;
    attempt: number;
    started_at: Timestamp;
    duration_ms: number;
    http_status: number | null;
    reply: string | null;
    outcome: AttemptOutcome;
    error: string | null;
    next_retry_at: Date | null;
  };
}

export type EmuDb = Kysely<EmuTables>;

// One statement per entry: PGlite runs a single statement per query.
const DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS emu_netopia_v1_platform_key (
    id smallint PRIMARY KEY CHECK (id = 1),
    private_key_pem text NOT NULL,
    certificate_pem text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE IF NOT EXISTS emu_netopia_v1_accounts (
    signature text PRIMARY KEY,
    name text NOT NULL,
    capture text NOT NULL CHECK (capture IN ('auto', 'manual')),
    ipn_public_key_pem text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  // Purchase ids start in NETOPIA's sandbox range so they look like the real thing in logs.
  `CREATE TABLE IF NOT EXISTS emu_netopia_v1_orders (
    purchase bigint GENERATED ALWAYS AS IDENTITY (START WITH 1200001) PRIMARY KEY,
    signature text NOT NULL REFERENCES emu_netopia_v1_accounts (signature),
    order_id text NOT NULL,
    lang text NOT NULL,
    request_xml text NOT NULL,
    currency char(3) NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
    amount_ron bigint NOT NULL CHECK (amount_ron >= 0),
    details text NOT NULL,
    confirm_url text NOT NULL,
    return_url text NOT NULL,
    ipn_cipher text NOT NULL CHECK (ipn_cipher IN ('rc4', 'aes-256-cbc')),
    capture text NOT NULL CHECK (capture IN ('auto', 'manual')),
    status text NOT NULL CHECK (status IN ('open', 'three_ds', 'declined', 'preauthorized', 'confirmed', 'credited', 'canceled')),
    error_code integer,
    pan_masked text,
    rrn text,
    payment_instrument_id text,
    captured_ron bigint NOT NULL DEFAULT 0 CHECK (captured_ron >= 0),
    credited_ron bigint NOT NULL DEFAULT 0 CHECK (credited_ron >= 0 AND credited_ron <= captured_ron),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (signature, order_id)
  )`,
  `CREATE TABLE IF NOT EXISTS emu_netopia_v1_ipn_deliveries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    purchase bigint NOT NULL REFERENCES emu_netopia_v1_orders (purchase),
    action text NOT NULL,
    error_code integer NOT NULL,
    crc text NOT NULL,
    mobilpay jsonb NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX IF NOT EXISTS emu_netopia_v1_ipn_deliveries_due_idx
    ON emu_netopia_v1_ipn_deliveries (next_attempt_at) WHERE status = 'pending'`,
  `CREATE INDEX IF NOT EXISTS emu_netopia_v1_ipn_deliveries_purchase_idx
    ON emu_netopia_v1_ipn_deliveries (purchase, id)`,
  `CREATE TABLE IF NOT EXISTS emu_netopia_v1_ipn_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES emu_netopia_v1_ipn_deliveries (id),
    attempt integer NOT NULL,
    started_at timestamptz NOT NULL,
    duration_ms integer NOT NULL,
    http_status integer,
    reply text,
    outcome text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed', 'gave_up')),
    error text,
    next_retry_at timestamptz,
    UNIQUE (delivery_id, attempt)
  )`,
];

/**
 * Creates the emulator's tables if they are missing. The transaction-scoped advisory lock serialises
 * processes starting together on one PostgreSQL, where concurrent CREATE ... IF NOT EXISTS can still collide
 * on the catalog's unique indexes.
 */
export async function ensureEmulatorSchema(db: Kysely<any>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext('emu_netopia_v1_schema'))`.execute(trx);
    for (const statement of DDL) await sql.raw(statement).execute(trx);
  });
}
