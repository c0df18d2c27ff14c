import { newId } from '../../core/ids.js';
import { countryByAlpha2 } from '../../core/countries.js';
import { FieldErrors } from '../../core/validation.js';
import {
  clearDefaultSeries,
  insertSeriesIfNew,
  lockMerchantSeries,
  lockSeries,
  selectInvoiceSettings,
  selectSellerProfile,
  selectSeries,
  selectSeriesList,
  updateSeries,
  upsertInvoiceSettings,
  upsertSellerProfile,
} from '../../store/queries/invoices.js';
import type { InvoiceSellerProfile, InvoiceSeries, InvoiceSettings } from '../../store/schema.js';
import { ConflictError, NotFoundError, UnprocessableError, type HubContext } from '../context.js';
import { inTransaction } from '../unit-of-work.js';
import {
  article,
  INVOICE_KINDS,
  isIban,
  isRomanianFiscalCode,
  SERIES_PREFIX,
  type InvoiceSettingsInput,
  type SellerProfileInput,
  type SeriesChanges,
  type SeriesInput,
} from './inputs.js';

/** What a merchant sets up before issuing: its seller profile, its numbering series, the three settings. */

// ---- seller profile

export function presentSellerProfile(p: InvoiceSellerProfile) {
  return {
    object: 'seller_profile' as const,
    name: p.name,
    fiscal_code: p.fiscal_code,
    trade_register: p.trade_register,
    address: p.address,
    city: p.city,
    county: p.county,
    country: p.country,
    iban: p.iban,
    bank: p.bank,
    vat_payer: p.vat_payer,
    email: p.email,
    phone: p.phone,
    updated_at: new Date(p.updated_at).toISOString(),
  };
}

/** The merchant's seller profile; NotFoundError while it has none. */
export async function getSellerProfile(ctx: Pick<HubContext, 'db'>, merchantId: string): Promise<InvoiceSellerProfile> {
  const p = await selectSellerProfile(ctx.db, merchantId);
  if (!p) throw new NotFoundError('no seller profile yet: set it with PUT /v1/seller-profile');
  return p;
}

/** Sets the whole seller profile (what a later issued document copies). */
export async function putSellerProfile(ctx: Pick<HubContext, 'db'>, merchantId: string, input: SellerProfileInput): Promise<InvoiceSellerProfile> {
  const errors = new FieldErrors();
  const req = (field: 'name' | 'fiscal_code' | 'address' | 'city', max: number) => {
    const v = input[field];
    if (typeof v !== 'string' || v.trim() === '' || v.length > max) errors.add(field, `is required (at most ${max} characters)`);
    return typeof v === 'string' ? v.trim() : '';
  };
  const opt = (field: 'trade_register' | 'county' | 'bank' | 'email' | 'phone' | 'iban', max: number) => {
    const v = input[field];
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return null;
    if (typeof v !== 'string' || v.length > max) errors.add(field, `must be at most ${max} characters`);
    return String(v).trim();
  };
  const name = req('name', 200);
  const fiscalCode = req('fiscal_code', 30).replace(/\s+/g, '').toUpperCase();
  const country = (input.country ?? 'RO').toUpperCase();
  if (!countryByAlpha2(country)) errors.add('country', 'must be an ISO 3166-1 alpha-2 code');
  if (fiscalCode && country === 'RO' && !isRomanianFiscalCode(fiscalCode))
    errors.add('fiscal_code', 'is not a valid Romanian CUI/CIF (its control digit does not match)');
  if (typeof input.vat_payer !== 'boolean') errors.add('vat_payer', 'must be true or false');
  const iban = opt('iban', 34)?.replace(/\s+/g, '').toUpperCase() ?? null;
  if (iban && !isIban(iban)) errors.add('iban', 'is not a valid IBAN (its check digits do not match)');
  const email = opt('email', 254);
  if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) errors.add('email', 'must be an e-mail address');
  const row = {
    merchant_id: merchantId,
    name,
    fiscal_code: fiscalCode,
    trade_register: opt('trade_register', 50),
    address: req('address', 500),
    city: req('city', 100),
    county: opt('county', 100),
    country,
    iban,
    bank: opt('bank', 100),
    vat_payer: input.vat_payer,
    email,
    phone: opt('phone', 30),
  };
  errors.throwIfAny();
  return upsertSellerProfile(ctx.db, { ...row, updated_at: new Date() });
}

// ---- settings

/** The merchant's invoice settings (all off until it sets them). */
export async function getInvoiceSettings(ctx: Pick<HubContext, 'db'>, merchantId: string): Promise<InvoiceSettings> {
  return (
    (await selectInvoiceSettings(ctx.db, merchantId)) ?? {
      merchant_id: merchantId,
      card_payment_default: false,
      auto_fiscal_from_proforma: false,
      auto_collection: false,
      updated_at: new Date(0),
    }
  );
}

/** Changes the settings given, keeps the others. */
export async function putInvoiceSettings(ctx: Pick<HubContext, 'db'>, merchantId: string, input: InvoiceSettingsInput): Promise<InvoiceSettings> {
  const errors = new FieldErrors();
  const changes: InvoiceSettingsInput = {};
  for (const k of ['card_payment_default', 'auto_fiscal_from_proforma', 'auto_collection'] as const) {
    if (input[k] === undefined) continue;
    if (typeof input[k] !== 'boolean') errors.add(k, 'must be true or false');
    else changes[k] = input[k];
  }
  errors.throwIfAny();
  return upsertInvoiceSettings(ctx.db, merchantId, changes);
}

export function presentInvoiceSettings(s: InvoiceSettings) {
  return {
    object: 'invoice_settings' as const,
    card_payment_default: s.card_payment_default,
    auto_fiscal_from_proforma: s.auto_fiscal_from_proforma,
    auto_collection: s.auto_collection,
  };
}

// ---- series

function checkSeriesFields(input: SeriesChanges, errors: FieldErrors): void {
  if (input.prefix !== undefined && (typeof input.prefix !== 'string' || !SERIES_PREFIX.test(input.prefix)))
    errors.add('prefix', 'must be 1 to 20 letters, digits or . / _ -, starting with a letter or digit');
  if (input.next_number !== undefined && (!Number.isSafeInteger(input.next_number) || input.next_number < 1 || input.next_number > 999_999_999_999))
    errors.add('next_number', 'must be an integer from 1 to 999999999999');
  if (input.padding !== undefined && (!Number.isInteger(input.padding) || input.padding < 0 || input.padding > 12))
    errors.add('padding', 'must be an integer from 0 to 12');
  if (input.is_default !== undefined && typeof input.is_default !== 'boolean') errors.add('is_default', 'must be true or false');
}

/**
 * A new numbering series. The first series of a kind is its default (what a document without `series_id` uses);
 * `is_default: true` makes a later one the default.
 */
export async function createSeries(ctx: HubContext, merchantId: string, input: SeriesInput): Promise<InvoiceSeries> {
  const errors = new FieldErrors();
  if (!(INVOICE_KINDS as readonly unknown[]).includes(input.kind)) errors.add('kind', 'must be "proforma" or "invoice"');
  if (input.prefix === undefined) errors.add('prefix', 'is required');
  checkSeriesFields(input, errors);
  errors.throwIfAny();
  return inTransaction(ctx, async (trx) => {
    await lockMerchantSeries(trx, merchantId);
    const existingDefault = (await selectSeriesList(trx, merchantId)).some((s) => s.kind === input.kind && s.is_default);
    const makeDefault = input.is_default === true || !existingDefault;
    if (makeDefault) await clearDefaultSeries(trx, merchantId, input.kind);
    const now = new Date();
    const created = await insertSeriesIfNew(trx, {
      id: newId('ser'),
      merchant_id: merchantId,
      kind: input.kind,
      prefix: input.prefix,
      next_number: input.next_number ?? 1,
      padding: input.padding ?? 0,
      is_default: makeDefault,
      created_at: now,
      updated_at: now,
    });
    if (!created) throw new ConflictError(`${article(input.kind)} series with prefix ${JSON.stringify(input.prefix)} exists already`);
    return created;
  });
}

export function listSeries(ctx: Pick<HubContext, 'db'>, merchantId: string): Promise<InvoiceSeries[]> {
  return selectSeriesList(ctx.db, merchantId);
}

export async function getSeries(ctx: Pick<HubContext, 'db'>, merchantId: string, id: string): Promise<InvoiceSeries> {
  const s = await selectSeries(ctx.db, merchantId, id);
  if (!s) throw new NotFoundError(`no invoice series ${JSON.stringify(id)}`);
  return s;
}

/**
 * Changes a series under its row lock (so no document is numbered in it meanwhile). Once a number was issued
 * from it, its prefix is fixed and its next number may only move forward: a number is never given twice.
 */
export async function updateSeriesSettings(ctx: HubContext, merchantId: string, id: string, changes: SeriesChanges): Promise<InvoiceSeries> {
  const errors = new FieldErrors();
  checkSeriesFields(changes, errors);
  errors.throwIfAny();
  return inTransaction(ctx, async (trx) => {
    const s = await lockSeries(trx, merchantId, id);
    if (!s) throw new NotFoundError(`no invoice series ${JSON.stringify(id)}`);
    const used = s.last_issued_number !== null;
    if (used && changes.prefix !== undefined && changes.prefix !== s.prefix)
      throw new UnprocessableError(`series ${s.prefix} has issued numbers: its prefix cannot change (create a new series instead)`);
    if (used && changes.next_number !== undefined && changes.next_number < s.next_number)
      throw new UnprocessableError(
        `series ${s.prefix} has issued up to ${s.last_issued_number}: its next number may only move forward (from ${s.next_number})`,
      );
    if (changes.is_default === false && s.is_default) throw new UnprocessableError('make another series the default instead (is_default: true on it)');
    if (changes.prefix !== undefined && changes.prefix !== s.prefix) {
      const clash = (await selectSeriesList(trx, merchantId)).some((x) => x.kind === s.kind && x.prefix === changes.prefix);
      if (clash) throw new ConflictError(`${article(s.kind)} series with prefix ${JSON.stringify(changes.prefix)} exists already`);
    }
    if (changes.is_default === true && !s.is_default) {
      await lockMerchantSeries(trx, merchantId);
      await clearDefaultSeries(trx, merchantId, s.kind);
    }
    return updateSeries(trx, id, {
      ...(changes.prefix !== undefined ? { prefix: changes.prefix } : {}),
      ...(changes.next_number !== undefined ? { next_number: changes.next_number } : {}),
      ...(changes.padding !== undefined ? { padding: changes.padding } : {}),
      ...(changes.is_default === true ? { is_default: true } : {}),
    });
  });
}
