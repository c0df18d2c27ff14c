import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import { newId } from '../../core/ids.js';
import { FieldErrors } from '../../core/validation.js';
import {
  deleteDraftInvoice,
  deleteInvoiceLines,
  insertInvoice,
  insertInvoiceLines,
  lockInvoice,
  lockSeries,
  selectDefaultSeries,
  selectInvoice,
  selectInvoiceCollections,
  selectInvoiceLines,
  selectInvoicePage,
  selectLatestIssueDate,
  selectSellerProfile,
  selectSeries,
  selectStornoOf,
  takeSeriesNumber,
  updateInvoice,
} from '../../store/queries/invoices.js';
import type { Database, Invoice, InvoiceCollection, InvoiceLine } from '../../store/schema.js';
import { ConflictError, NotFoundError, UnprocessableError, type HubContext } from '../context.js';
import { runIdempotent, type IdempotencyClaim, type StoredResponse } from '../idempotency.js';
import { inTransaction, noteOutboxWrite } from '../unit-of-work.js';
import { emitEvent } from '../webhooks.js';
import {
  checkCurrency,
  checkDates,
  checkLines,
  fullNumber,
  article,
  INVOICE_KINDS,
  INVOICE_LANGUAGES,
  INVOICE_STATUSES,
  isCalendarDate,
  normalizeBuyer,
  presentInvoice,
  rateOf,
  storedRate,
  todayInRomania,
  totalsOf,
  vatBreakdownJson,
  type CheckedLine,
  type InvoiceDraftChanges,
  type InvoiceDraftInput,
  type InvoiceKind,
  type InvoiceView,
} from './inputs.js';
import { getInvoiceSettings } from './setup.js';

/**
 * Documents: drafts (free to change or delete), issued (numbered, never deleted), paid, canceled.
 *
 * Numbering: a document gets its number only when it is issued, inside the transaction that issues it, under the
 * row lock of its series (`SELECT … FOR UPDATE`): two processes issuing in one series queue on that lock, so the
 * numbers are consecutive, with no gap (a rolled-back issue leaves the series as it was) and no reuse (and
 * `UNIQUE (series_id, number)` holds it in the database too). Proformas are not fiscal documents and have their
 * own series. An issued fiscal invoice is corrected by a storno invoice, never canceled or deleted.
 */

/** The pay link's secret: 192 random bits, stored as they are (see docs/invoices.md for why not hashed). */
function newPayToken(): string {
  return randomBytes(24).toString('base64url');
}

const VAT_CHARGING_RATES = new Set(['21', '11', '9']);

function linesRows(invoiceId: string, lines: CheckedLine[]) {
  const totals = totalsOf(lines, 0);
  return lines.map((l, i) => ({
    invoice_id: invoiceId,
    position: i + 1,
    description: l.description,
    quantity_thousandths: l.quantityThousandths,
    unit: l.unit,
    unit_price: l.unitPrice,
    vat_rate: storedRate(l.vatRate),
    net: totals.lineNets[i]!,
  }));
}

function totalsColumns(lines: CheckedLine[], paid: number) {
  const t = totalsOf(lines, paid);
  return { net: t.net, vat_total: t.vatTotal, total: t.total, vat_breakdown: JSON.stringify(vatBreakdownJson(t)) };
}

const checkedOf = (rows: InvoiceLine[]): CheckedLine[] =>
  rows.map((l) => ({
    description: l.description,
    unit: l.unit,
    quantityThousandths: l.quantity_thousandths,
    unitPrice: l.unit_price,
    vatRate: rateOf(l.vat_rate),
  }));

async function checkSeriesChoice(
  db: Transaction<Database> | HubContext['db'],
  merchantId: string,
  kind: InvoiceKind,
  seriesId: string | null | undefined,
  errors: FieldErrors,
) {
  if (seriesId === undefined || seriesId === null) return;
  const s = await selectSeries(db, merchantId, seriesId);
  if (!s) errors.add('series_id', 'is not one of your invoice series');
  else if (s.kind !== kind) errors.add('series_id', `is ${article(s.kind)} series; this document is ${article(kind)}`);
}

/** Writes a draft (no number yet) in the caller's transaction. */
export async function createInvoiceDraft(trx: Transaction<Database>, merchantId: string, input: InvoiceDraftInput): Promise<Invoice> {
  const errors = new FieldErrors();
  if (!(INVOICE_KINDS as readonly unknown[]).includes(input.kind)) errors.add('kind', 'must be "proforma" or "invoice"');
  if (input.language !== undefined && !(INVOICE_LANGUAGES as readonly unknown[]).includes(input.language)) errors.add('language', 'must be ro, en or it');
  const currency = checkCurrency(input.currency, errors);
  checkDates(input.issue_date, input.due_date, errors);
  const buyer = normalizeBuyer(input.buyer, errors);
  const lines = checkLines(input.lines, errors);
  if (input.notes !== undefined && input.notes !== null && (typeof input.notes !== 'string' || input.notes.length > 2000))
    errors.add('notes', 'must be at most 2000 characters');
  if (input.card_payment !== undefined && input.card_payment !== null && typeof input.card_payment !== 'boolean')
    errors.add('card_payment', 'must be true, false or null');
  await checkSeriesChoice(trx, merchantId, input.kind, input.series_id, errors);
  errors.throwIfAny();
  const now = new Date();
  const id = newId('inv');
  const invoice = await insertInvoice(trx, {
    id,
    merchant_id: merchantId,
    kind: input.kind,
    status: 'draft',
    series_id: input.series_id ?? null,
    issue_date: input.issue_date ?? null,
    due_date: input.due_date ?? null,
    currency,
    language: input.language ?? 'ro',
    buyer: JSON.stringify(buyer),
    buyer_name: String(buyer.name),
    notes: input.notes ?? null,
    card_payment: input.card_payment ?? null,
    ...totalsColumns(lines, 0),
    created_at: now,
    updated_at: now,
  });
  await insertInvoiceLines(trx, linesRows(id, lines));
  return invoice;
}

/** `POST /v1/invoices`: a draft, once per Idempotency-Key (the same key and body answer the stored response). */
export async function createInvoiceDraftOnce(
  ctx: HubContext,
  merchantId: string,
  input: InvoiceDraftInput,
  claim: IdempotencyClaim | undefined,
): Promise<StoredResponse> {
  const { card_payment_default } = await getInvoiceSettings(ctx, merchantId);
  return runIdempotent(ctx.db, merchantId, claim?.key, claim ?? { hash: '' }, async (trx) => {
    const invoice = await createInvoiceDraft(trx, merchantId, input);
    return { status: 201, body: presentInvoice(invoice, await selectInvoiceLines(trx, invoice.id), card_payment_default, ctx) };
  });
}

async function lockOrThrow(trx: Transaction<Database>, merchantId: string, id: string): Promise<Invoice> {
  const inv = await lockInvoice(trx, merchantId, id);
  if (!inv) throw new NotFoundError(`no invoice ${JSON.stringify(id)}`);
  return inv;
}

/** Changes a draft: the fields given (lines replace all the lines). Issued documents do not change. */
export async function updateInvoiceDraft(ctx: HubContext, merchantId: string, id: string, changes: InvoiceDraftChanges): Promise<Invoice> {
  return inTransaction(ctx, async (trx) => {
    const inv = await lockOrThrow(trx, merchantId, id);
    if (inv.status !== 'draft') throw new ConflictError(`invoice ${id} is ${inv.status}: only a draft can be changed`);
    const errors = new FieldErrors();
    if (changes.language !== undefined && !(INVOICE_LANGUAGES as readonly unknown[]).includes(changes.language)) errors.add('language', 'must be ro, en or it');
    const currency = changes.currency === undefined ? inv.currency : checkCurrency(changes.currency, errors);
    const issueDate = changes.issue_date === undefined ? inv.issue_date : changes.issue_date;
    const dueDate = changes.due_date === undefined ? inv.due_date : changes.due_date;
    checkDates(issueDate, dueDate, errors);
    const buyer = changes.buyer === undefined ? undefined : normalizeBuyer(changes.buyer, errors);
    const lines = changes.lines === undefined ? undefined : checkLines(changes.lines, errors);
    if (changes.notes !== undefined && changes.notes !== null && (typeof changes.notes !== 'string' || changes.notes.length > 2000))
      errors.add('notes', 'must be at most 2000 characters');
    if (changes.card_payment !== undefined && changes.card_payment !== null && typeof changes.card_payment !== 'boolean')
      errors.add('card_payment', 'must be true, false or null');
    await checkSeriesChoice(trx, merchantId, inv.kind, changes.series_id, errors);
    errors.throwIfAny();
    if (lines) {
      await deleteInvoiceLines(trx, id);
      await insertInvoiceLines(trx, linesRows(id, lines));
    }
    return updateInvoice(trx, id, {
      currency,
      issue_date: issueDate,
      due_date: dueDate,
      ...(changes.language !== undefined ? { language: changes.language } : {}),
      ...(changes.series_id !== undefined ? { series_id: changes.series_id } : {}),
      ...(buyer ? { buyer: JSON.stringify(buyer), buyer_name: String(buyer.name) } : {}),
      ...(changes.notes !== undefined ? { notes: changes.notes } : {}),
      ...(changes.card_payment !== undefined ? { card_payment: changes.card_payment } : {}),
      ...(lines ? totalsColumns(lines, 0) : {}),
    });
  });
}

/** Deletes a draft; an issued document is never deleted. */
export async function deleteInvoiceDraft(ctx: HubContext, merchantId: string, id: string): Promise<void> {
  await inTransaction(ctx, async (trx) => {
    const inv = await lockOrThrow(trx, merchantId, id);
    if (inv.status !== 'draft')
      throw new ConflictError(
        `invoice ${id} is ${inv.status}: only a draft can be deleted${inv.kind === 'invoice' ? ' (an issued invoice is corrected by a storno)' : ''}`,
      );
    await deleteDraftInvoice(trx, id);
  });
}

export interface IssueOptions {
  /** `YYYY-MM-DD`; default: the draft's issue date, else today in Romania. */
  issue_date?: string;
  /** A storno: its totals are negative. */
  storno?: boolean;
  /**
   * What was already collected for it (a paid proforma's fiscal invoice): carried onto the document as it is
   * issued, which is then `paid` when it covers the total, so `invoice.issued` tells the state it ends in.
   */
  paid?: { amount: number; at: Date };
}

/**
 * Issues a draft the caller has locked, inside the caller's transaction: checks it, takes the next number of its
 * series (the draft's, else the kind's default) under the series' row lock, copies the seller profile onto it,
 * gives it its pay link's token, and records `invoice.issued`. For the next step's ledger hook (a paid proforma's
 * fiscal invoice) as much as for `issueInvoice`.
 */
export async function issueLockedDraft(ctx: HubContext, trx: Transaction<Database>, draft: Invoice, options: IssueOptions = {}): Promise<Invoice> {
  if (draft.status !== 'draft') throw new ConflictError(`invoice ${draft.id} is ${draft.status}: only a draft can be issued`);
  const merchantId = draft.merchant_id;
  const seller = await selectSellerProfile(trx, merchantId);
  if (!seller) throw new UnprocessableError('set your seller profile first (PUT /v1/seller-profile): an issued document carries it');
  const lines = await selectInvoiceLines(trx, draft.id);
  if (lines.length === 0) throw new UnprocessableError('a document needs at least one line to be issued');
  const checked = checkedOf(lines);
  const totals = totalsColumns(checked, 0);
  if (!options.storno && totals.total < 0)
    throw new UnprocessableError('the total is negative: an invoice is corrected by a storno (POST /v1/invoices/{id}/storno)');
  if (!seller.vat_payer && lines.some((l) => VAT_CHARGING_RATES.has(l.vat_rate)))
    throw new UnprocessableError('your seller profile says you are not a VAT payer: every line must be at VAT rate 0 or "exempt"');
  const issueDate = options.issue_date ?? draft.issue_date ?? todayInRomania();
  if (!isCalendarDate(issueDate)) throw new UnprocessableError('issue_date must be a date YYYY-MM-DD');
  if (draft.due_date !== null && draft.due_date < issueDate)
    throw new UnprocessableError(`the due date ${draft.due_date} is before the issue date ${issueDate}`);
  const seriesRef = draft.series_id ?? (await selectDefaultSeries(trx, merchantId, draft.kind))?.id;
  if (!seriesRef) throw new UnprocessableError(`create ${article(draft.kind)} series first (POST /v1/invoice-series): a document is numbered in one`);
  // The lock that makes the numbering gapless across processes: held until this transaction ends.
  const series = await lockSeries(trx, merchantId, seriesRef);
  if (!series) throw new UnprocessableError('the series of this draft no longer exists');
  if (series.kind !== draft.kind)
    throw new UnprocessableError(`series ${series.prefix} is ${article(series.kind)} series; this document is ${article(draft.kind)}`);
  // Numbers follow the dates: a document is not issued with a date before the latest one of its series.
  const latest = await selectLatestIssueDate(trx, series.id);
  if (latest !== null && issueDate < latest)
    throw new UnprocessableError(
      `series ${series.prefix} already has a document dated ${latest}: the issue date may not be earlier (numbers follow the dates)`,
    );
  const number = await takeSeriesNumber(trx, series.id);
  const printed = fullNumber(series, number);
  // CIUS-RO BR-RO-010: the invoice number contains at least one digit (always true of prefix + number; kept as a guard).
  if (!/\d/.test(printed)) throw new Error(`invoice number ${printed} has no digit`);
  const { merchant_id: _m, updated_at: _u, ...sellerSnapshot } = seller;
  const issued = await updateInvoice(trx, draft.id, {
    status: 'issued',
    series_id: series.id,
    number,
    full_number: printed,
    issue_date: issueDate,
    seller: JSON.stringify(sellerSnapshot),
    pay_token: newPayToken(),
    issued_at: new Date(),
    ...totals,
    ...(options.paid && options.paid.amount > 0
      ? { amount_paid: options.paid.amount, ...(options.paid.amount >= totals.total ? { status: 'paid' as const, paid_at: options.paid.at } : {}) }
      : {}),
  });
  const settings = await getInvoiceSettings({ db: trx }, merchantId);
  await emitEvent(trx, merchantId, 'invoice.issued', null, presentInvoice(issued, lines, settings.card_payment_default, ctx));
  noteOutboxWrite(ctx, trx);
  return issued;
}

/** `POST /v1/invoices/{id}/issue`: numbers and issues a draft. */
export async function issueInvoice(ctx: HubContext, merchantId: string, id: string, options: Pick<IssueOptions, 'issue_date'> = {}): Promise<Invoice> {
  if (options.issue_date !== undefined && !isCalendarDate(options.issue_date)) {
    const errors = new FieldErrors();
    errors.add('issue_date', 'must be a date YYYY-MM-DD');
    errors.throwIfAny();
  }
  return inTransaction(ctx, async (trx) => issueLockedDraft(ctx, trx, await lockOrThrow(trx, merchantId, id), options));
}

/**
 * Cancels a draft or an issued, unpaid proforma. An issued fiscal invoice is never canceled (a storno corrects
 * it); a paid proforma is not canceled either (its payment would be refunded first). Canceling a canceled
 * document changes nothing.
 */
export async function cancelInvoice(ctx: HubContext, merchantId: string, id: string): Promise<Invoice> {
  return inTransaction(ctx, async (trx) => {
    const inv = await lockOrThrow(trx, merchantId, id);
    if (inv.status === 'canceled') return inv;
    if (inv.status !== 'draft') {
      if (inv.kind === 'invoice')
        throw new ConflictError(
          `invoice ${inv.full_number} is issued: a fiscal invoice is never canceled; correct it with a storno (POST /v1/invoices/${id}/storno)`,
        );
      if (inv.status === 'paid' || inv.amount_paid !== 0) throw new ConflictError(`proforma ${inv.full_number} has a payment: refund it before canceling`);
    }
    const canceled = await updateInvoice(trx, id, { status: 'canceled', canceled_at: new Date() });
    if (inv.status !== 'draft') {
      const settings = await getInvoiceSettings({ db: trx }, merchantId);
      await emitEvent(
        trx,
        merchantId,
        'invoice.canceled',
        null,
        presentInvoice(canceled, await selectInvoiceLines(trx, id), settings.card_payment_default, ctx),
      );
      noteOutboxWrite(ctx, trx);
    }
    return canceled;
  });
}

/** A copy of a document as a new draft of `kind` (lines negated for a storno), in the caller's transaction. */
async function copyAsDraft(
  trx: Transaction<Database>,
  source: Invoice,
  kind: InvoiceKind,
  extra: { series_id: string | null; related_invoice_id?: string; storno_of_id?: string; negate?: boolean; notes: string | null; card_payment: boolean | null },
): Promise<Invoice> {
  const lines = checkedOf(await selectInvoiceLines(trx, source.id)).map((l) => (extra.negate ? { ...l, quantityThousandths: -l.quantityThousandths } : l));
  const now = new Date();
  const id = newId('inv');
  const draft = await insertInvoice(trx, {
    id,
    merchant_id: source.merchant_id,
    kind,
    status: 'draft',
    series_id: extra.series_id,
    due_date: null,
    currency: source.currency,
    language: source.language,
    buyer: JSON.stringify(source.buyer),
    buyer_name: source.buyer_name,
    notes: extra.notes,
    card_payment: extra.card_payment,
    related_invoice_id: extra.related_invoice_id ?? null,
    storno_of_id: extra.storno_of_id ?? null,
    ...totalsColumns(lines, 0),
    created_at: now,
    updated_at: now,
  });
  await insertInvoiceLines(trx, linesRows(id, lines));
  return draft;
}

/**
 * A storno of an issued (or paid) fiscal invoice: a new invoice, issued at once in the same series, with every
 * line's quantity negated and `storno_of_id` naming the invoice it corrects. One storno per invoice.
 */
export async function stornoInvoice(ctx: HubContext, merchantId: string, id: string, options: Pick<IssueOptions, 'issue_date'> = {}): Promise<Invoice> {
  return inTransaction(ctx, async (trx) => {
    const original = await lockOrThrow(trx, merchantId, id);
    if (original.kind !== 'invoice') throw new ConflictError('only a fiscal invoice is corrected by a storno; a proforma is canceled');
    if (original.status !== 'issued' && original.status !== 'paid')
      throw new ConflictError(`invoice ${id} is ${original.status}: only an issued invoice has a storno`);
    if (original.storno_of_id !== null) throw new ConflictError(`invoice ${original.full_number} is itself a storno`);
    const existing = await selectStornoOf(trx, id);
    if (existing) throw new ConflictError(`invoice ${original.full_number} has a storno already (${existing.id})`);
    const draft = await copyAsDraft(trx, original, 'invoice', {
      series_id: original.series_id,
      storno_of_id: id,
      negate: true,
      notes: `Stornare factura ${original.full_number} din ${original.issue_date}`,
      card_payment: false,
    });
    return issueLockedDraft(ctx, trx, draft, { ...options, storno: true });
  });
}

export interface ConvertOptions {
  /** The fiscal series; default: the merchant's default invoice series. */
  series_id?: string;
  issue_date?: string;
}

/**
 * The fiscal invoice of an issued or paid proforma, in the caller's transaction (the next step's ledger hook
 * calls it when a proforma is paid): locks the proforma, refuses when it has one already, copies its buyer and
 * lines, issues it with the next number of the fiscal series, carries what was paid, and links both documents.
 * `UNIQUE` on the fiscal invoice's `related_invoice_id` keeps it to one whatever the timing.
 */
export async function convertProformaLocked(
  ctx: HubContext,
  trx: Transaction<Database>,
  merchantId: string,
  proformaId: string,
  options: ConvertOptions = {},
): Promise<Invoice> {
  const proforma = await lockOrThrow(trx, merchantId, proformaId);
  if (proforma.kind !== 'proforma') throw new ConflictError(`${proformaId} is a fiscal invoice, not a proforma`);
  if (proforma.related_invoice_id !== null)
    throw new ConflictError(`proforma ${proforma.full_number} has its fiscal invoice already (${proforma.related_invoice_id})`);
  if (proforma.status !== 'issued' && proforma.status !== 'paid')
    throw new ConflictError(`proforma ${proformaId} is ${proforma.status}: only an issued or paid proforma becomes an invoice`);
  if (options.series_id !== undefined) {
    const errors = new FieldErrors();
    await checkSeriesChoice(trx, merchantId, 'invoice', options.series_id, errors);
    errors.throwIfAny();
  }
  const draft = await copyAsDraft(trx, proforma, 'invoice', {
    series_id: options.series_id ?? null,
    related_invoice_id: proforma.id,
    notes: proforma.notes,
    card_payment: proforma.card_payment,
  });
  const invoice = await issueLockedDraft(ctx, trx, draft, {
    issue_date: options.issue_date,
    paid: { amount: proforma.amount_paid, at: proforma.paid_at ?? new Date() },
  });
  await updateInvoice(trx, proforma.id, { related_invoice_id: invoice.id });
  return invoice;
}

/** `POST /v1/invoices/{id}/convert`: the fiscal invoice of a proforma, made by hand. */
export function convertProforma(ctx: HubContext, merchantId: string, proformaId: string, options: ConvertOptions = {}): Promise<Invoice> {
  if (options.issue_date !== undefined && !isCalendarDate(options.issue_date)) {
    const errors = new FieldErrors();
    errors.add('issue_date', 'must be a date YYYY-MM-DD');
    errors.throwIfAny();
  }
  return inTransaction(ctx, (trx) => convertProformaLocked(ctx, trx, merchantId, proformaId, options));
}

// ---- reads

/** One of a merchant's documents (NotFoundError for another merchant's). */
export async function getInvoiceRow(ctx: Pick<HubContext, 'db'>, merchantId: string, id: string): Promise<Invoice> {
  const inv = await selectInvoice(ctx.db, merchantId, id);
  if (!inv) throw new NotFoundError(`no invoice ${JSON.stringify(id)}`);
  return inv;
}

/** A document as the API shows it, with its lines. */
export async function getInvoice(ctx: Pick<HubContext, 'db' | 'publicUrl'>, merchantId: string, id: string): Promise<InvoiceView> {
  const inv = await getInvoiceRow(ctx, merchantId, id);
  const [lines, settings] = await Promise.all([selectInvoiceLines(ctx.db, id), getInvoiceSettings(ctx, merchantId)]);
  return presentInvoice(inv, lines, settings.card_payment_default, ctx);
}

export function getInvoiceLines(ctx: Pick<HubContext, 'db'>, invoiceId: string): Promise<InvoiceLine[]> {
  return selectInvoiceLines(ctx.db, invoiceId);
}

/** A document's collections, oldest first. */
export async function listInvoiceCollections(ctx: Pick<HubContext, 'db'>, merchantId: string, id: string): Promise<InvoiceCollection[]> {
  await getInvoiceRow(ctx, merchantId, id);
  return selectInvoiceCollections(ctx.db, id);
}

export interface InvoiceListFilter {
  status?: string;
  kind?: string;
  /** A buyer name's beginning or a buyer's fiscal code. */
  buyer?: string;
  issued_from?: string;
  issued_to?: string;
  starting_after?: string;
  limit?: number;
}

/** A merchant's documents, newest first (without their lines), a page at a time. */
export async function listInvoices(ctx: Pick<HubContext, 'db' | 'publicUrl'>, merchantId: string, filter: InvoiceListFilter) {
  const errors = new FieldErrors();
  if (filter.status !== undefined && !(INVOICE_STATUSES as readonly string[]).includes(filter.status))
    errors.add('querystring.status', 'must be draft, issued, paid or canceled');
  if (filter.kind !== undefined && !(INVOICE_KINDS as readonly string[]).includes(filter.kind)) errors.add('querystring.kind', 'must be proforma or invoice');
  for (const k of ['issued_from', 'issued_to'] as const)
    if (filter[k] !== undefined && !isCalendarDate(filter[k])) errors.add(`querystring.${k}`, 'must be a date YYYY-MM-DD');
  errors.throwIfAny();
  const limit = Math.min(Math.max(filter.limit ?? 20, 1), 100);
  const rows = await selectInvoicePage(ctx.db, {
    merchantId,
    status: filter.status,
    kind: filter.kind,
    buyer: filter.buyer,
    issuedFrom: filter.issued_from,
    issuedTo: filter.issued_to,
    startingAfter: filter.starting_after,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  const settings = await getInvoiceSettings(ctx, merchantId);
  return {
    object: 'list' as const,
    data: page.map((inv) => presentInvoice(inv, undefined, settings.card_payment_default, ctx)),
    has_more: hasMore,
    next_cursor: hasMore ? page[page.length - 1]!.id : null,
  };
}
