import type { ColumnType, Kysely } from 'kysely';
import type { V1Mobilpay } from '../../src/connectors/netopia-v1/ipn-xml.js';
import {
  deliveryTablesDdl,
  type AttemptLogColumns,
  type BigIntColumn,
  type DeliveryTableNames,
  type QueueStateColumns,
  type Timestamp,
} from '../shared/delivery-tables.js';
import { ensureEmulatorTables } from '../shared/schema.js';

/** The emulator's own tables (prefix `emu_netopia_v1_`), created on start by ensureEmulatorSchema. */

/** Where an order is in NETOPIA's life cycle. `open`/`three_ds` still accept the card; the rest are finished. */
export type OrderStatus = 'open' | 'three_ds' | 'declined' | 'preauthorized' | 'confirmed' | 'credited' | 'canceled';
export type CaptureMode = 'auto' | 'manual';
export type IpnCipher = 'rc4' | 'aes-256-cbc';
// NETOPIA's permanent errors (error_type 2) make `failed` one of its outcomes.
export type { AttemptOutcome } from '../shared/delivery-worker.js';

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
  emu_netopia_v1_ipn_deliveries: QueueStateColumns & {
    purchase: BigIntColumn;
    action: V1Mobilpay['action'];
    error_code: number;
    crc: string;
    /** The `<mobilpay>` element's content; the XML is rebuilt from it and the order's request on every attempt. */
    mobilpay: ColumnType<V1Mobilpay, string, string>;
  };
  emu_netopia_v1_ipn_attempts: AttemptLogColumns & {
    delivery_id: BigIntColumn;
    reply: string | null;
  };
}

export type EmuDb = Kysely<EmuTables>;

/** The IPN queue and its attempt log, as the IpnSender works them. */
export const IPN_QUEUE: DeliveryTableNames = {
  table: 'emu_netopia_v1_ipn_deliveries',
  attemptLog: { table: 'emu_netopia_v1_ipn_attempts', deliveryColumn: 'delivery_id', keepsReplies: true },
};

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
  ...deliveryTablesDdl(IPN_QUEUE, {
    columns: `purchase bigint NOT NULL REFERENCES emu_netopia_v1_orders (purchase),
    action text NOT NULL,
    error_code integer NOT NULL,
    crc text NOT NULL,
    mobilpay jsonb NOT NULL`,
    outcomes: ['delivered', 'retry', 'failed', 'gave_up'],
  }),
  `CREATE INDEX IF NOT EXISTS emu_netopia_v1_ipn_deliveries_purchase_idx
    ON emu_netopia_v1_ipn_deliveries (purchase, id)`,
];

export async function ensureEmulatorSchema(db: Kysely<any>): Promise<void> {
  await ensureEmulatorTables(db, 'emu_netopia_v1_schema', DDL);
}
