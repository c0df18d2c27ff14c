import { sql, type ColumnType, type Generated, type Kysely } from 'kysely';
import {
  deliveryTablesDdl,
  type AttemptLogColumns,
  type BigIntColumn,
  type DeliveryTableNames,
  type QueueStateColumns,
  type Timestamp,
} from '../shared/delivery-tables.js';
import { ensureEmulatorTables } from '../shared/schema.js';

/** The Nexi emulator's own tables (prefix `emu_nexi_`), created on start by ensureNexiSchema. */

/** A PayMail link: `open` takes payments; `paid`, `declined` (three KOs), `canceled` and `expired` are final. */
export type LinkStatus = 'open' | 'paid' | 'declined' | 'canceled' | 'expired';
/** XPay only retries or gives up: no merchant answer stops a result for good. */
export type AttemptOutcome = 'delivered' | 'retry' | 'gave_up';

export interface EmuNexiTables {
  emu_nexi_accounts: {
    alias: string;
    name: string;
    /** XPay holds the MAC key itself: it signs results and checks requests with it. */
    mac_key: string;
    created_at: Timestamp;
  };
  emu_nexi_links: {
    id: ColumnType<number | string, never, never>;
    token: string;
    alias: string;
    cod_trans: string;
    importo: BigIntColumn;
    divisa: string;
    accounting: 'C' | 'D';
    url: string;
    url_back: string;
    url_post: string | null;
    descrizione: string | null;
    /** The merchant's custom parameter `order_reference` (the order as the payer knows it), when sent. */
    order_reference: string | null;
    mail: string | null;
    nome: string | null;
    cognome: string | null;
    language_id: string | null;
    status: LinkStatus;
    tries: Generated<number>;
    id_operazione: BigIntColumn;
    expires_at: Timestamp;
    created_at: Timestamp;
    updated_at: Timestamp;
  };
  /** Each card try on a link (XPay allows three per codTrans). */
  emu_nexi_payments: {
    id: ColumnType<number | string, never, never>;
    link_id: BigIntColumn;
    esito: string;
    codice_esito: string;
    messaggio: string;
    cod_aut: string;
    brand: string | null;
    pan: string | null;
    scadenza_pan: string | null;
    data: string;
    orario: string;
    created_at: Timestamp;
  };
  emu_nexi_notifications: QueueStateColumns & {
    link_id: BigIntColumn;
    /** The signed result form exactly as it is posted to urlpost, on every attempt. */
    fields: ColumnType<Record<string, string>, string, string>;
    url_post: string;
  };
  emu_nexi_notification_attempts: AttemptLogColumns<AttemptOutcome> & {
    notification_id: BigIntColumn;
    reply: string | null;
  };
}

export type EmuNexiDb = Kysely<EmuNexiTables>;

/** The result queue and its attempt log, as the Notifier works them. */
export const NOTIFICATION_QUEUE: DeliveryTableNames = {
  table: 'emu_nexi_notifications',
  attemptLog: { table: 'emu_nexi_notification_attempts', deliveryColumn: 'notification_id', keepsReplies: true },
};

// One statement per entry: PGlite runs a single statement per query.
const DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS emu_nexi_accounts (
    alias text PRIMARY KEY,
    name text NOT NULL,
    mac_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  // idOperazione numbers every back-office call, as XPay does.
  `CREATE SEQUENCE IF NOT EXISTS emu_nexi_operation_seq START WITH 1000001`,
  `CREATE TABLE IF NOT EXISTS emu_nexi_links (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token text NOT NULL UNIQUE,
    alias text NOT NULL REFERENCES emu_nexi_accounts (alias),
    cod_trans text NOT NULL,
    importo bigint NOT NULL CHECK (importo > 0),
    divisa char(3) NOT NULL,
    accounting char(1) NOT NULL CHECK (accounting IN ('C', 'D')),
    url text NOT NULL,
    url_back text NOT NULL,
    url_post text,
    descrizione text,
    order_reference text,
    mail text,
    nome text,
    cognome text,
    language_id text,
    status text NOT NULL CHECK (status IN ('open', 'paid', 'declined', 'canceled', 'expired')),
    tries integer NOT NULL DEFAULT 0,
    id_operazione bigint NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (alias, cod_trans)
  )`,
  // Databases made before the column existed.
  `ALTER TABLE emu_nexi_links ADD COLUMN IF NOT EXISTS order_reference text`,
  `CREATE TABLE IF NOT EXISTS emu_nexi_payments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    link_id bigint NOT NULL REFERENCES emu_nexi_links (id),
    esito text NOT NULL,
    codice_esito text NOT NULL,
    messaggio text NOT NULL,
    cod_aut text NOT NULL,
    brand text,
    pan text,
    scadenza_pan text,
    data text NOT NULL,
    orario text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX IF NOT EXISTS emu_nexi_payments_link_idx ON emu_nexi_payments (link_id, id)`,
  ...deliveryTablesDdl(NOTIFICATION_QUEUE, {
    columns: `link_id bigint NOT NULL REFERENCES emu_nexi_links (id),
    fields jsonb NOT NULL,
    url_post text NOT NULL`,
    outcomes: ['delivered', 'retry', 'gave_up'],
  }),
  `CREATE INDEX IF NOT EXISTS emu_nexi_notifications_link_idx ON emu_nexi_notifications (link_id, id)`,
];

export async function ensureNexiSchema(db: Kysely<any>): Promise<void> {
  await ensureEmulatorTables(db, 'emu_nexi_schema', DDL);
}

/** The next idOperazione. */
export async function nextOperationId(db: Kysely<any>): Promise<number> {
  const { rows } = await sql<{ id: string | number }>`SELECT nextval('emu_nexi_operation_seq') AS id`.execute(db);
  return Number(rows[0]!.id);
}
