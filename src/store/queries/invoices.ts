import { sql, type Insertable, type Kysely, type Transaction, type Updateable } from 'kysely';
import type {
  Database,
  Invoice,
  InvoiceCollection,
  InvoiceLine,
  InvoiceLinesTable,
  InvoiceSellerProfile,
  InvoiceSellerProfilesTable,
  InvoiceSeries,
  InvoiceSeriesTable,
  InvoiceSettings,
  InvoicesTable,
  NewInvoice,
} from '../schema.js';
type Db = Kysely<Database>;

/**
 * The invoicing module's statements: seller profiles, numbering series, settings, documents and their lines,
 * collections. Calendar dates (`date` columns) are read as `YYYY-MM-DD` text, never as a Date in some time zone.
 */

// ---- seller profile

export function selectSellerProfile(db: Db, merchantId: string): Promise<InvoiceSellerProfile | undefined> {
  return db.selectFrom('invoice_seller_profiles').selectAll().where('merchant_id', '=', merchantId).executeTakeFirst();
}

export function upsertSellerProfile(db: Db, row: Insertable<InvoiceSellerProfilesTable>): Promise<InvoiceSellerProfile> {
  const { merchant_id: _, ...changes } = row;
  return db
    .insertInto('invoice_seller_profiles')
    .values(row)
    .onConflict((oc) => oc.column('merchant_id').doUpdateSet({ ...changes, updated_at: new Date() }))
    .returningAll()
    .executeTakeFirstOrThrow();
}

// ---- settings

export function selectInvoiceSettings(db: Db, merchantId: string): Promise<InvoiceSettings | undefined> {
  return db.selectFrom('invoice_settings').selectAll().where('merchant_id', '=', merchantId).executeTakeFirst();
}

export function upsertInvoiceSettings(
  db: Db,
  merchantId: string,
  changes: Partial<Pick<InvoiceSettings, 'card_payment_default' | 'auto_fiscal_from_proforma' | 'auto_collection'>>,
): Promise<InvoiceSettings> {
  const q = db.insertInto('invoice_settings').values({ merchant_id: merchantId, ...changes, updated_at: new Date() });
  return (
    Object.keys(changes).length === 0
      ? q.onConflict((oc) => oc.column('merchant_id').doUpdateSet({ merchant_id: merchantId }))
      : q.onConflict((oc) => oc.column('merchant_id').doUpdateSet({ ...changes, updated_at: new Date() }))
  )
    .returningAll()
    .executeTakeFirstOrThrow();
}

// ---- series

/**
 * Holds the merchant's row (FOR NO KEY UPDATE: inserts that reference the merchant are not held up) until the
 * transaction ends: changes to which series is a kind's default run one at a time.
 */
export async function lockMerchantSeries(trx: Transaction<Database>, merchantId: string): Promise<void> {
  await trx.selectFrom('merchants').select('id').where('id', '=', merchantId).forNoKeyUpdate().execute();
}

export function insertSeries(db: Db, row: Insertable<InvoiceSeriesTable>): Promise<InvoiceSeries> {
  return db.insertInto('invoice_series').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Inserts a series unless the merchant has one of that kind and prefix; the new row, or undefined. */
export function insertSeriesIfNew(db: Db, row: Insertable<InvoiceSeriesTable>): Promise<InvoiceSeries | undefined> {
  return db
    .insertInto('invoice_series')
    .values(row)
    .onConflict((oc) => oc.columns(['merchant_id', 'kind', 'prefix']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function selectSeriesList(db: Db, merchantId: string): Promise<InvoiceSeries[]> {
  return db.selectFrom('invoice_series').selectAll().where('merchant_id', '=', merchantId).orderBy('kind').orderBy('prefix').execute();
}

/** One of a merchant's series (another merchant's answers nothing, like one that does not exist). */
export function selectSeries(db: Db, merchantId: string, id: string): Promise<InvoiceSeries | undefined> {
  return db.selectFrom('invoice_series').selectAll().where('merchant_id', '=', merchantId).where('id', '=', id).executeTakeFirst();
}

export function selectDefaultSeries(db: Db, merchantId: string, kind: 'proforma' | 'invoice'): Promise<InvoiceSeries | undefined> {
  return db
    .selectFrom('invoice_series')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('kind', '=', kind)
    .where('is_default', '=', true)
    .executeTakeFirst();
}

/** Locks a series row until the transaction ends (`SELECT … FOR UPDATE`): who holds it is the only one numbering in it. */
export function lockSeries(trx: Transaction<Database>, merchantId: string, id: string): Promise<InvoiceSeries | undefined> {
  return trx.selectFrom('invoice_series').selectAll().where('merchant_id', '=', merchantId).where('id', '=', id).forUpdate().executeTakeFirst();
}

export function updateSeries(db: Db, id: string, changes: Updateable<InvoiceSeriesTable>): Promise<InvoiceSeries> {
  return db
    .updateTable('invoice_series')
    .set({ ...changes, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Takes the next number of a series the caller has locked (`lockSeries`): returns it, the series moves on by one. */
export async function takeSeriesNumber(trx: Transaction<Database>, id: string): Promise<number> {
  const row = await sql<{ number: number }>`
    UPDATE invoice_series SET next_number = next_number + 1, last_issued_number = next_number, updated_at = now()
    WHERE id = ${id} RETURNING last_issued_number AS number`.execute(trx);
  return Number(row.rows[0]!.number);
}

export async function clearDefaultSeries(db: Db, merchantId: string, kind: 'proforma' | 'invoice'): Promise<void> {
  await db
    .updateTable('invoice_series')
    .set({ is_default: false })
    .where('merchant_id', '=', merchantId)
    .where('kind', '=', kind)
    .where('is_default', '=', true)
    .execute();
}

// ---- documents

/** Every column of `invoices`, with its calendar dates as `YYYY-MM-DD` text. */
function invoiceColumns() {
  return [
    'invoices.id',
    'invoices.merchant_id',
    'invoices.kind',
    'invoices.status',
    'invoices.series_id',
    'invoices.number',
    'invoices.full_number',
    sql<string | null>`invoices.issue_date::text`.as('issue_date'),
    sql<string | null>`invoices.due_date::text`.as('due_date'),
    'invoices.currency',
    'invoices.language',
    'invoices.buyer',
    'invoices.buyer_name',
    'invoices.seller',
    'invoices.notes',
    'invoices.card_payment',
    'invoices.net',
    'invoices.vat_total',
    'invoices.total',
    'invoices.vat_breakdown',
    'invoices.amount_paid',
    'invoices.related_invoice_id',
    'invoices.storno_of_id',
    'invoices.pay_token',
    'invoices.issued_at',
    'invoices.paid_at',
    'invoices.canceled_at',
    'invoices.created_at',
    'invoices.updated_at',
  ] as const;
}

export async function insertInvoice(trx: Transaction<Database>, row: NewInvoice): Promise<Invoice> {
  return trx.insertInto('invoices').values(row).returning(invoiceColumns()).executeTakeFirstOrThrow() as Promise<Invoice>;
}

/** One of a merchant's documents (another merchant's answers nothing, like one that does not exist). */
export function selectInvoice(db: Db, merchantId: string, id: string): Promise<Invoice | undefined> {
  return db.selectFrom('invoices').select(invoiceColumns()).where('merchant_id', '=', merchantId).where('id', '=', id).executeTakeFirst() as Promise<
    Invoice | undefined
  >;
}

/** A document by its pay link's token (any merchant's: the token is the secret). */
export function selectInvoiceByPayToken(db: Db, token: string): Promise<Invoice | undefined> {
  return db.selectFrom('invoices').select(invoiceColumns()).where('pay_token', '=', token).executeTakeFirst() as Promise<Invoice | undefined>;
}

/** Locks one of a merchant's documents until the transaction ends. */
export function lockInvoice(trx: Transaction<Database>, merchantId: string, id: string): Promise<Invoice | undefined> {
  return trx
    .selectFrom('invoices')
    .select(invoiceColumns())
    .where('merchant_id', '=', merchantId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst() as Promise<Invoice | undefined>;
}

export function updateInvoice(trx: Transaction<Database>, id: string, changes: Updateable<InvoicesTable>): Promise<Invoice> {
  return trx
    .updateTable('invoices')
    .set({ ...changes, updated_at: new Date() })
    .where('id', '=', id)
    .returning(invoiceColumns())
    .executeTakeFirstOrThrow() as Promise<Invoice>;
}

/** Deletes a draft (its lines go with it); whether one was deleted. */
export async function deleteDraftInvoice(trx: Transaction<Database>, id: string): Promise<boolean> {
  const r = await trx.deleteFrom('invoices').where('id', '=', id).where('status', '=', 'draft').executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The storno issued for an invoice, if any. */
export function selectStornoOf(db: Db, invoiceId: string): Promise<{ id: string } | undefined> {
  return db.selectFrom('invoices').select('id').where('storno_of_id', '=', invoiceId).executeTakeFirst();
}

export interface InvoiceListQuery {
  merchantId: string;
  status?: string;
  kind?: string;
  /** A buyer name's beginning (case-insensitive) or a buyer's exact fiscal code. */
  buyer?: string;
  issuedFrom?: string;
  issuedTo?: string;
  startingAfter?: string;
  limit: number;
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** A merchant's documents, newest first (ids are time-ordered: the cursor is the last id of the previous page). */
export function selectInvoicePage(db: Db, f: InvoiceListQuery): Promise<Invoice[]> {
  let q = db.selectFrom('invoices').select(invoiceColumns()).where('merchant_id', '=', f.merchantId);
  if (f.status) q = q.where('status', '=', f.status as Invoice['status']);
  if (f.kind) q = q.where('kind', '=', f.kind as Invoice['kind']);
  if (f.buyer) {
    const text = f.buyer.trim();
    q = q.where((eb) =>
      eb.or([
        eb(sql<string>`lower(buyer_name)`, 'like', `${escapeLike(text.toLowerCase())}%`),
        eb(sql<string>`buyer->>'fiscal_code'`, '=', text.toUpperCase().replace(/^RO/, '')),
        eb(sql<string>`buyer->>'fiscal_code'`, '=', text),
      ]),
    );
  }
  if (f.issuedFrom) q = q.where(sql<string>`issue_date`, '>=', sql<string>`${f.issuedFrom}::date`);
  if (f.issuedTo) q = q.where(sql<string>`issue_date`, '<=', sql<string>`${f.issuedTo}::date`);
  if (f.startingAfter) q = q.where('id', '<', f.startingAfter);
  return q.orderBy('id', 'desc').limit(f.limit).execute() as Promise<Invoice[]>;
}

/** The latest issue date of the documents numbered in a series (`YYYY-MM-DD`), or null. */
export async function selectLatestIssueDate(db: Db, seriesId: string): Promise<string | null> {
  const r = await sql<{ d: string | null }>`SELECT max(issue_date)::text AS d FROM invoices WHERE series_id = ${seriesId} AND number IS NOT NULL`.execute(db);
  return r.rows[0]?.d ?? null;
}

// ---- lines

export async function insertInvoiceLines(trx: Transaction<Database>, lines: Insertable<InvoiceLinesTable>[]): Promise<void> {
  if (lines.length) await trx.insertInto('invoice_lines').values(lines).execute();
}

export async function deleteInvoiceLines(trx: Transaction<Database>, invoiceId: string): Promise<void> {
  await trx.deleteFrom('invoice_lines').where('invoice_id', '=', invoiceId).execute();
}

export function selectInvoiceLines(db: Db, invoiceId: string): Promise<InvoiceLine[]> {
  return db.selectFrom('invoice_lines').selectAll().where('invoice_id', '=', invoiceId).orderBy('position').execute();
}

// ---- collections

/** A collection as the services read it (its date as the calendar date it is, not a timestamp). */
const COLLECTION_COLUMNS = [
  'id',
  'merchant_id',
  'invoice_id',
  sql<string>`collected_on::text`.as('collected_on'),
  'amount',
  'currency',
  'method',
  'processor',
  'processor_reference',
  'payment_id',
  'reversed_by_id',
  'overpayment',
  'created_at',
] as const;

export function selectInvoiceCollections(db: Db, invoiceId: string): Promise<InvoiceCollection[]> {
  return db.selectFrom('invoice_collections').select(COLLECTION_COLUMNS).where('invoice_id', '=', invoiceId).orderBy('created_at').orderBy('id').execute();
}

/** Records a collection; answers its row. */
export function insertCollection(trx: Transaction<Database>, row: Insertable<Database['invoice_collections']>): Promise<InvoiceCollection> {
  return trx.insertInto('invoice_collections').values(row).returning(COLLECTION_COLUMNS).executeTakeFirstOrThrow();
}

/** The positive, not yet reversed collection a payment made for an invoice, if any. */
export function selectOpenPaymentCollection(
  db: Db,
  invoiceId: string,
  paymentId: string,
): Promise<{ id: string; amount: number; overpayment: boolean } | undefined> {
  return db
    .selectFrom('invoice_collections')
    .select(['id', 'amount', 'overpayment'])
    .where('invoice_id', '=', invoiceId)
    .where('payment_id', '=', paymentId)
    .where('amount', '>', 0)
    .executeTakeFirst();
}

/** Names the collection that reverses another. */
export async function markCollectionReversed(trx: Transaction<Database>, id: string, reversedById: string): Promise<void> {
  await trx.updateTable('invoice_collections').set({ reversed_by_id: reversedById }).where('id', '=', id).execute();
}

// ---- payments of invoices (the payments themselves are the ledger's)

/** Links a payment the ledger created to the invoice it pays. */
export async function insertInvoicePayment(trx: Transaction<Database>, row: { payment_id: string; invoice_id: string; merchant_id: string }): Promise<void> {
  await trx.insertInto('invoice_payments').values(row).execute();
}

/** The invoice a payment pays, if it pays one. */
export function selectInvoiceOfPayment(db: Db, paymentId: string): Promise<{ invoice_id: string; merchant_id: string } | undefined> {
  return db.selectFrom('invoice_payments').select(['invoice_id', 'merchant_id']).where('payment_id', '=', paymentId).executeTakeFirst();
}

/** One card attempt of an invoice, with its payment's status and amount. */
export interface InvoiceAttemptRow {
  payment_id: string;
  payment_status: string;
  payment_amount: number;
  payment_expires_at: Date | null;
  connection_id: string;
  connection_code: string;
  attempt_id: string;
  attempt_number: number;
  provider: string;
  status: string;
  amount: number;
  currency: string;
  processor_reference: string | null;
  error_code: string | null;
  error_message: string | null;
  created_at: Date;
  updated_at: Date;
}

/** Every attempt of every payment of an invoice, oldest first. */
export function selectInvoiceAttempts(db: Db, invoiceId: string): Promise<InvoiceAttemptRow[]> {
  return db
    .selectFrom('invoice_payments as ip')
    .innerJoin('payments as p', 'p.id', 'ip.payment_id')
    .innerJoin('payment_attempts as a', 'a.payment_id', 'p.id')
    .innerJoin('connections as c', 'c.id', 'p.connection_id')
    .select([
      'p.id as payment_id',
      'p.status as payment_status',
      'p.amount as payment_amount',
      'p.expires_at as payment_expires_at',
      'p.connection_id',
      'c.code as connection_code',
      'a.id as attempt_id',
      'a.number as attempt_number',
      'a.provider',
      'a.status',
      'a.amount',
      'a.currency',
      'a.processor_reference',
      'a.error_code',
      'a.error_message',
      'a.created_at',
      'a.updated_at',
    ])
    .where('ip.invoice_id', '=', invoiceId)
    .orderBy('a.created_at')
    .orderBy('a.id')
    .execute();
}

/**
 * Runs `fn` under a savepoint of the caller's transaction: when it throws, what it wrote is undone and the
 * transaction goes on (answers undefined and the error); otherwise the savepoint is released.
 */
export async function underSavepoint<T>(trx: Transaction<Database>, fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  await sql`SAVEPOINT invoice_step`.execute(trx);
  try {
    const value = await fn();
    await sql`RELEASE SAVEPOINT invoice_step`.execute(trx);
    return { ok: true, value };
  } catch (error) {
    await sql`ROLLBACK TO SAVEPOINT invoice_step`.execute(trx);
    return { ok: false, error };
  }
}

/**
 * Card money of an invoice's payments not on the invoice as collections: what its payments captured less what was
 * refunded, less the collections that name one of them. 0 when every card payment was recorded (the collection
 * recorded automatically); positive when the merchant records collections by hand and has not yet.
 */
export async function selectUncollectedCardMoney(db: Db, invoiceId: string): Promise<number> {
  const r = await sql<{ uncollected: string | number }>`
    SELECT
      (SELECT COALESCE(SUM(p.amount_captured - p.amount_refunded), 0) FROM invoice_payments ip JOIN payments p ON p.id = ip.payment_id
        WHERE ip.invoice_id = ${invoiceId})
      - (SELECT COALESCE(SUM(c.amount), 0) FROM invoice_collections c WHERE c.invoice_id = ${invoiceId} AND c.payment_id IS NOT NULL) AS uncollected`.execute(
    db,
  );
  return Number(r.rows[0]?.uncollected ?? 0);
}
