import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { HubContext } from '../../services/context.js';
import { hashRequest } from '../../services/idempotency.js';
import {
  cancelInvoice,
  convertProforma,
  createInvoiceDraftOnce,
  createSeries,
  deleteInvoiceDraft,
  getInvoice,
  getInvoiceSettings,
  getSellerProfile,
  getSeries,
  issueInvoice,
  listInvoiceAttempts,
  listInvoiceCollections,
  listInvoices,
  listSeries,
  presentCollection,
  presentInvoiceSettings,
  presentSellerProfile,
  presentSeries,
  putInvoiceSettings,
  putSellerProfile,
  stornoInvoice,
  updateInvoiceDraft,
  updateSeriesSettings,
  type InvoiceDraftChanges,
  type InvoiceDraftInput,
} from '../../services/invoices/index.js';
import { requireMerchant, type AuthConfig } from '../auth.js';
import { IdempotencyHeaders, IdParams, Problem } from './schemas.js';

// ---- schemas (validation and the OpenAPI document come from the same objects)

const DateOnly = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a calendar date, YYYY-MM-DD', examples: ['2026-03-02'] });
const VatRate = Type.Union([Type.Literal(21), Type.Literal(11), Type.Literal(9), Type.Literal(0), Type.Literal('exempt')], {
  description: 'VAT rate in percent as Romania has them since 1 August 2025 (21 standard, 11 reduced, 9 transitional for housing), 0, or "exempt"',
  examples: [21],
});
const Kind = Type.Union([Type.Literal('proforma'), Type.Literal('invoice')], {
  description: 'proforma (not a fiscal document) or invoice (fiscal)',
  examples: ['proforma'],
});
const Language = Type.Union([Type.Literal('ro'), Type.Literal('en'), Type.Literal('it')], { description: "the buyer's language (the pay page speaks it)" });

const BuyerSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('company'), Type.Literal('person')], { examples: ['company'] }),
    name: Type.String({ minLength: 1, maxLength: 200, examples: ['Cafeaua Bună SRL'] }),
    fiscal_code: Type.Optional(Type.String({ maxLength: 30, description: 'CUI/CIF of a company (RO prefix for a VAT payer)', examples: ['RO18547290'] })),
    trade_register: Type.Optional(Type.String({ maxLength: 50, examples: ['J40/1234/2020'] })),
    cnp: Type.Optional(Type.String({ maxLength: 13, description: "a person's CNP; 0000000000000 when not given", examples: ['0000000000000'] })),
    address: Type.Optional(Type.String({ maxLength: 500, examples: ['Str. Lăpușneanu 12, ap. 3'] })),
    city: Type.Optional(Type.String({ maxLength: 100, examples: ['Iași'] })),
    county: Type.Optional(Type.String({ maxLength: 100, examples: ['Iași'] })),
    country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', examples: ['RO'] })),
    email: Type.Optional(
      Type.String({
        maxLength: 254,
        description: 'recommended: the processor sends its payment confirmation there',
        examples: ['contabilitate@cafeauabuna.ro'],
      }),
    ),
    phone: Type.Optional(Type.String({ maxLength: 30, examples: ['+40712345678'] })),
  },
  { additionalProperties: false },
);

const LineSchema = Type.Object(
  {
    description: Type.String({ minLength: 1, maxLength: 500, examples: ['Cafea boabe 1kg'] }),
    quantity: Type.Union([Type.Number(), Type.String({ maxLength: 20 })], { description: 'up to 3 decimals', examples: [2.5] }),
    unit: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'default buc', examples: ['kg'] })),
    unit_price: Type.Integer({ description: 'minor units per unit, without VAT: 4990 is 49.90 RON', examples: [4990] }),
    vat_rate: VatRate,
  },
  { additionalProperties: false },
);

const CreateInvoiceBody = Type.Object(
  {
    kind: Kind,
    series_id: Type.Optional(Type.String({ maxLength: 64, description: 'default: your default series of this kind' })),
    issue_date: Type.Optional(DateOnly),
    due_date: Type.Optional(DateOnly),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217, default RON', examples: ['RON'] })),
    language: Type.Optional(Language),
    buyer: BuyerSchema,
    lines: Type.Array(LineSchema, { minItems: 1, maxItems: 500 }),
    notes: Type.Optional(Type.String({ maxLength: 2000, examples: ['Plata în 15 zile'] })),
    card_payment: Type.Optional(Type.Union([Type.Boolean(), Type.Null()], { description: 'card payment on this document; null follows your setting' })),
  },
  { additionalProperties: false },
);

const PatchInvoiceBody = Type.Object(
  {
    series_id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    issue_date: Type.Optional(Type.Union([DateOnly, Type.Null()])),
    due_date: Type.Optional(Type.Union([DateOnly, Type.Null()])),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    language: Type.Optional(Language),
    buyer: Type.Optional(BuyerSchema),
    lines: Type.Optional(Type.Array(LineSchema, { minItems: 1, maxItems: 500, description: 'replaces every line' })),
    notes: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    card_payment: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  },
  { additionalProperties: false },
);

const IssueBody = Type.Object({ issue_date: Type.Optional(DateOnly) }, { additionalProperties: false });
const ConvertBody = Type.Object(
  {
    issue_date: Type.Optional(DateOnly),
    series_id: Type.Optional(Type.String({ maxLength: 64, description: 'the fiscal series; default: your default invoice series' })),
  },
  { additionalProperties: false },
);

const ListInvoicesQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('issued'), Type.Literal('paid'), Type.Literal('canceled')])),
    kind: Type.Optional(Kind),
    buyer: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: "the beginning of the buyer's name, or its fiscal code", examples: ['Cafeaua'] }),
    ),
    issued_from: Type.Optional(DateOnly),
    issued_to: Type.Optional(DateOnly),
    starting_after: Type.Optional(Type.String({ maxLength: 64, description: 'cursor: the next_cursor of the previous page' })),
    limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: '1 to 100, default 20' })),
  },
  { additionalProperties: false },
);
type ListInvoicesQuery = Static<typeof ListInvoicesQuery>;

const SellerProfileBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, examples: ['Prăjituri de Casă SRL'] }),
    fiscal_code: Type.String({ minLength: 2, maxLength: 30, description: 'CUI/CIF (RO prefix for a VAT payer)', examples: ['RO18547290'] }),
    trade_register: Type.Optional(Type.Union([Type.String({ maxLength: 50, examples: ['J22/345/2019'] }), Type.Null()])),
    address: Type.String({ minLength: 1, maxLength: 500, examples: ['Bd. Independenței 5'] }),
    city: Type.String({ minLength: 1, maxLength: 100, examples: ['Iași'] }),
    county: Type.Optional(Type.Union([Type.String({ maxLength: 100, examples: ['Iași'] }), Type.Null()])),
    country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', examples: ['RO'] })),
    iban: Type.Optional(Type.Union([Type.String({ maxLength: 42, examples: ['RO49AAAA1B31007593840000'] }), Type.Null()])),
    bank: Type.Optional(Type.Union([Type.String({ maxLength: 100, examples: ['Banca Transilvania'] }), Type.Null()])),
    vat_payer: Type.Boolean({ description: 'plătitor de TVA', examples: [true] }),
    email: Type.Optional(Type.Union([Type.String({ maxLength: 254, examples: ['facturi@prajituri.ro'] }), Type.Null()])),
    phone: Type.Optional(Type.Union([Type.String({ maxLength: 30, examples: ['+40232123456'] }), Type.Null()])),
  },
  { additionalProperties: false },
);

const CreateSeriesBody = Type.Object(
  {
    kind: Kind,
    prefix: Type.String({ minLength: 1, maxLength: 20, description: 'letters, digits or . / _ -', examples: ['PRJ'] }),
    next_number: Type.Optional(Type.Integer({ minimum: 1, maximum: 999_999_999_999, description: 'from your internal decision; default 1', examples: [1] })),
    padding: Type.Optional(Type.Integer({ minimum: 0, maximum: 12, description: 'digits the number is zero-padded to (4: PRJ0001)', examples: [4] })),
    is_default: Type.Optional(Type.Boolean({ description: 'the series a document of this kind uses when it names none (the first series of a kind is)' })),
  },
  { additionalProperties: false },
);
const PatchSeriesBody = Type.Object(
  {
    prefix: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'only while no number was issued' })),
    next_number: Type.Optional(Type.Integer({ minimum: 1, maximum: 999_999_999_999, description: 'once used, only forward' })),
    padding: Type.Optional(Type.Integer({ minimum: 0, maximum: 12 })),
    is_default: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false },
);

const SettingsBody = Type.Object(
  {
    card_payment_default: Type.Optional(Type.Boolean({ description: 'card payment on all invoices (each can still turn it off)', examples: [true] })),
    auto_fiscal_from_proforma: Type.Optional(Type.Boolean({ description: 'a paid proforma gets its fiscal invoice automatically', examples: [true] })),
    auto_collection: Type.Optional(
      Type.Boolean({ description: 'an accepted card payment records the collection and marks the invoice paid', examples: [true] }),
    ),
  },
  { additionalProperties: false },
);

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });

const InvoiceSchema = Type.Object(
  {
    id: Type.String({ examples: ['inv_01jd3k8v9x0000000000000000'] }),
    object: Type.Literal('invoice'),
    kind: Kind,
    status: Type.Union([Type.Literal('draft'), Type.Literal('issued'), Type.Literal('paid'), Type.Literal('canceled')]),
    series_id: Nullable(Type.String()),
    number: Nullable(Type.String({ description: 'as printed: prefix + number; null while a draft', examples: ['PRJ0041'] })),
    sequence_number: Nullable(Type.Integer({ description: 'the number within its series', examples: [41] })),
    issue_date: Nullable(Type.String({ examples: ['2026-03-02'] })),
    due_date: Nullable(Type.String()),
    currency: Type.String({ examples: ['RON'] }),
    language: Language,
    buyer: Type.Record(Type.String(), Type.Unknown(), { description: 'as stored: a person without a CNP has 0000000000000' }),
    seller: Nullable(Type.Record(Type.String(), Type.Unknown(), { description: 'the seller profile as it was when the document was issued' })),
    notes: Nullable(Type.String()),
    card_payment: Type.Boolean({ description: 'card payment applies to this document (its own choice, else your setting)' }),
    card_payment_override: Nullable(Type.Boolean({ description: "the document's own choice; null follows your setting" })),
    pay_url: Nullable(
      Type.String({ description: "the buyer's pay link (a hosted page with one button per processor), while card payment is on for an issued document" }),
    ),
    lines: Type.Optional(
      Type.Array(
        Type.Object({
          position: Type.Integer(),
          description: Type.String(),
          quantity: Type.String({ description: 'decimal text, up to 3 decimals', examples: ['1.25'] }),
          unit: Type.String({ examples: ['kg'] }),
          unit_price: Type.Integer(),
          vat_rate: VatRate,
          net: Type.Integer({ description: 'quantity × unit price, rounded half away from zero' }),
        }),
        { description: 'left out of lists' },
      ),
    ),
    totals: Type.Object({
      net: Type.Integer(),
      vat: Type.Array(Type.Object({ rate: VatRate, taxable_amount: Type.Integer(), tax_amount: Type.Integer() }), {
        description: 'per VAT rate: the rate applied to the sum of its lines (EN 16931 BR-CO-17)',
      }),
      vat_total: Type.Integer(),
      total: Type.Integer({ examples: [35215] }),
      amount_paid: Type.Integer(),
      amount_due: Type.Integer(),
    }),
    related_invoice_id: Nullable(Type.String({ description: "a proforma's fiscal invoice, or a fiscal invoice's proforma" })),
    storno_of_id: Nullable(Type.String({ description: 'the invoice this storno corrects' })),
    issued_at: Nullable(Timestamp),
    paid_at: Nullable(Timestamp),
    canceled_at: Nullable(Timestamp),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { description: 'amounts in minor units of the currency' },
);
const InvoiceList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(InvoiceSchema),
  has_more: Type.Boolean(),
  next_cursor: Nullable(Type.String()),
});
const SeriesSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('invoice_series'),
  kind: Kind,
  prefix: Type.String({ examples: ['PRJ'] }),
  next_number: Type.Integer({ examples: [42] }),
  next_full_number: Type.String({ examples: ['PRJ0042'] }),
  padding: Type.Integer(),
  is_default: Type.Boolean(),
  last_issued_number: Nullable(Type.Integer()),
  created_at: Timestamp,
  updated_at: Timestamp,
});
const SeriesList = Type.Object({ object: Type.Literal('list'), data: Type.Array(SeriesSchema) });
const SettingsSchema = Type.Object({
  object: Type.Literal('invoice_settings'),
  card_payment_default: Type.Boolean(),
  auto_fiscal_from_proforma: Type.Boolean(),
  auto_collection: Type.Boolean(),
});
const SellerProfileSchema = Type.Object({
  object: Type.Literal('seller_profile'),
  name: Type.String(),
  fiscal_code: Type.String(),
  trade_register: Nullable(Type.String()),
  address: Type.String(),
  city: Type.String(),
  county: Nullable(Type.String()),
  country: Type.String(),
  iban: Nullable(Type.String()),
  bank: Nullable(Type.String()),
  vat_payer: Type.Boolean(),
  email: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  updated_at: Timestamp,
});
const CollectionList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(
    Type.Object({
      id: Type.String(),
      object: Type.Literal('collection'),
      invoice_id: Type.String(),
      collected_on: Type.String({ examples: ['2026-03-02'] }),
      amount: Type.Integer({ description: 'negative for a refund' }),
      currency: Type.String(),
      method: Type.Union([Type.Literal('card'), Type.Literal('bank'), Type.Literal('cash')]),
      processor: Nullable(Type.String()),
      processor_reference: Nullable(Type.String()),
      payment_id: Nullable(Type.String()),
      reversed_by_id: Nullable(Type.String()),
      overpayment: Type.Boolean({ description: 'collected beyond the amount due (a second success on a paid invoice): not counted as paid' }),
      created_at: Timestamp,
    }),
  ),
});

const AttemptList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(
    Type.Object({
      id: Type.String(),
      object: Type.Literal('invoice_attempt'),
      payment_id: Type.String(),
      number: Type.Integer({ description: "the attempt's number within its payment" }),
      status: Type.String({ examples: ['created', 'processing', 'captured', 'failed', 'unknown', 'refunded'] }),
      processor: Type.String({ examples: ['netopia-v1'] }),
      connection: Type.String({ description: "the connection's code" }),
      amount: Type.Integer(),
      currency: Type.String(),
      processor_reference: Nullable(Type.String()),
      failure: Nullable(Type.Object({ code: Nullable(Type.String()), message: Nullable(Type.String({ description: 'as the processor said it' })) })),
      created_at: Timestamp,
      updated_at: Timestamp,
    }),
  ),
});

// ---- routes

/** Actions whose body is optional: no body at all is the empty object (what the schema then validates). */
const optionalBody = async (request: { body: unknown }) => {
  if (request.body === undefined || request.body === null) request.body = {};
};

export async function invoiceRoutes(app: FastifyInstance, opts: { ctx: HubContext; auth: AuthConfig }) {
  const { ctx } = opts;
  // Authentication runs first (onRequest), so a stranger never learns anything from validation errors.
  app.addHook('onRequest', requireMerchant(opts.auth));
  const tags = ['invoices'];

  app.post<{ Body: Static<typeof CreateInvoiceBody>; Headers: { 'idempotency-key'?: string } }>(
    '/v1/invoices',
    {
      schema: {
        tags,
        summary: 'Create a draft proforma or invoice (numbered only when issued)',
        body: CreateInvoiceBody,
        headers: IdempotencyHeaders,
        response: { 201: InvoiceSchema, 422: Problem },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const claim = key === undefined ? undefined : { key, ...hashRequest('POST', '/v1/invoices', request.body) };
      const result = await createInvoiceDraftOnce(ctx, request.merchant!.id, request.body as InvoiceDraftInput, claim);
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(result.status).send(result.body);
    },
  );

  app.get<{ Querystring: ListInvoicesQuery }>(
    '/v1/invoices',
    {
      schema: {
        tags,
        summary: 'List documents, newest first, by status, kind, buyer and issue period (cursor pagination)',
        querystring: ListInvoicesQuery,
        response: { 200: InvoiceList },
      },
    },
    async (request) => {
      const q = request.query;
      return listInvoices(ctx, request.merchant!.id, { ...q, limit: q.limit ? Number(q.limit) : undefined });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/invoices/:id',
    { schema: { tags, summary: 'A document with its lines and totals', params: IdParams, response: { 200: InvoiceSchema } } },
    async (request) => getInvoice(ctx, request.merchant!.id, request.params.id),
  );

  app.patch<{ Params: { id: string }; Body: Static<typeof PatchInvoiceBody> }>(
    '/v1/invoices/:id',
    {
      schema: {
        tags,
        summary: 'Change a draft (lines, if given, replace all its lines)',
        params: IdParams,
        body: PatchInvoiceBody,
        response: { 200: InvoiceSchema, 409: Problem, 422: Problem },
      },
    },
    async (request) => {
      const inv = await updateInvoiceDraft(ctx, request.merchant!.id, request.params.id, request.body as InvoiceDraftChanges);
      return getInvoice(ctx, request.merchant!.id, inv.id);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/invoices/:id',
    { schema: { tags, summary: 'Delete a draft (an issued document is never deleted)', params: IdParams, response: { 409: Problem } } },
    async (request) => {
      await deleteInvoiceDraft(ctx, request.merchant!.id, request.params.id);
      return { id: request.params.id, object: 'invoice', deleted: true };
    },
  );

  app.post<{ Params: { id: string }; Body: Static<typeof IssueBody> }>(
    '/v1/invoices/:id/issue',
    {
      preValidation: optionalBody,
      schema: {
        tags,
        summary: 'Issue a draft: it takes the next number of its series (consecutive, no gap), and invoice.issued is sent',
        params: IdParams,
        body: IssueBody,
        response: { 200: InvoiceSchema, 409: Problem, 422: Problem },
      },
    },
    async (request) => {
      const inv = await issueInvoice(ctx, request.merchant!.id, request.params.id, request.body);
      return getInvoice(ctx, request.merchant!.id, inv.id);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/invoices/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a draft or an issued, unpaid proforma (a fiscal invoice is corrected by a storno instead)',
        params: IdParams,
        response: { 200: InvoiceSchema, 409: Problem },
      },
    },
    async (request) => {
      const inv = await cancelInvoice(ctx, request.merchant!.id, request.params.id);
      return getInvoice(ctx, request.merchant!.id, inv.id);
    },
  );

  app.post<{ Params: { id: string }; Body: Static<typeof IssueBody> }>(
    '/v1/invoices/:id/storno',
    {
      preValidation: optionalBody,
      schema: {
        tags,
        summary: 'Correct an issued fiscal invoice: a storno invoice with every line negated, issued at once in the same series',
        params: IdParams,
        body: IssueBody,
        response: { 201: InvoiceSchema, 409: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      const storno = await stornoInvoice(ctx, request.merchant!.id, request.params.id, request.body);
      return reply.code(201).send(await getInvoice(ctx, request.merchant!.id, storno.id));
    },
  );

  app.post<{ Params: { id: string }; Body: Static<typeof ConvertBody> }>(
    '/v1/invoices/:id/convert',
    {
      preValidation: optionalBody,
      schema: {
        tags,
        summary: "A proforma's fiscal invoice (buyer and lines copied, both linked), issued at once; refused when it has one",
        params: IdParams,
        body: ConvertBody,
        response: { 201: InvoiceSchema, 409: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      const inv = await convertProforma(ctx, request.merchant!.id, request.params.id, request.body);
      return reply.code(201).send(await getInvoice(ctx, request.merchant!.id, inv.id));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/invoices/:id/collections',
    { schema: { tags, summary: "A document's collections (încasări), oldest first", params: IdParams, response: { 200: CollectionList } } },
    async (request) => ({ object: 'list' as const, data: (await listInvoiceCollections(ctx, request.merchant!.id, request.params.id)).map(presentCollection) }),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/invoices/:id/attempts',
    {
      schema: {
        tags,
        summary: "Every card attempt of a document (status, time, processor, the processor's failure reason), oldest first",
        params: IdParams,
        response: { 200: AttemptList },
      },
    },
    async (request) => ({ object: 'list' as const, data: await listInvoiceAttempts(ctx, request.merchant!.id, request.params.id) }),
  );

  // ---- series

  app.post<{ Body: Static<typeof CreateSeriesBody> }>(
    '/v1/invoice-series',
    {
      schema: {
        tags,
        summary: 'A numbering series of proformas or fiscal invoices (prefix and first number from your internal decision)',
        body: CreateSeriesBody,
        response: { 201: SeriesSchema, 409: Problem },
      },
    },
    async (request, reply) => reply.code(201).send(presentSeries(await createSeries(ctx, request.merchant!.id, request.body))),
  );

  app.get('/v1/invoice-series', { schema: { tags, summary: 'Your numbering series', response: { 200: SeriesList } } }, async (request) => ({
    object: 'list' as const,
    data: (await listSeries(ctx, request.merchant!.id)).map(presentSeries),
  }));

  app.get<{ Params: { id: string } }>(
    '/v1/invoice-series/:id',
    { schema: { tags, summary: 'A numbering series and its next number', params: IdParams, response: { 200: SeriesSchema } } },
    async (request) => presentSeries(await getSeries(ctx, request.merchant!.id, request.params.id)),
  );

  app.patch<{ Params: { id: string }; Body: Static<typeof PatchSeriesBody> }>(
    '/v1/invoice-series/:id',
    {
      schema: {
        tags,
        summary: 'Change a series: its next number only forward once a number was issued, its prefix only before',
        params: IdParams,
        body: PatchSeriesBody,
        response: { 200: SeriesSchema, 409: Problem, 422: Problem },
      },
    },
    async (request) => presentSeries(await updateSeriesSettings(ctx, request.merchant!.id, request.params.id, request.body)),
  );

  // ---- settings and seller profile

  app.get(
    '/v1/invoice-settings',
    { schema: { tags, summary: 'The three invoice settings (all off until set)', response: { 200: SettingsSchema } } },
    async (request) => presentInvoiceSettings(await getInvoiceSettings(ctx, request.merchant!.id)),
  );

  app.put<{ Body: Static<typeof SettingsBody> }>(
    '/v1/invoice-settings',
    { schema: { tags, summary: 'Change any of the three invoice settings (the others stay)', body: SettingsBody, response: { 200: SettingsSchema } } },
    async (request) => presentInvoiceSettings(await putInvoiceSettings(ctx, request.merchant!.id, request.body)),
  );

  app.get(
    '/v1/seller-profile',
    {
      schema: {
        tags,
        summary: 'Your seller profile, printed on every document you issue (404 until set)',
        response: { 200: SellerProfileSchema, 404: Problem },
      },
    },
    async (request) => presentSellerProfile(await getSellerProfile(ctx, request.merchant!.id)),
  );

  app.put<{ Body: Static<typeof SellerProfileBody> }>(
    '/v1/seller-profile',
    {
      schema: {
        tags,
        summary: 'Set your seller profile; documents already issued keep the one they were issued with',
        body: SellerProfileBody,
        response: { 200: SellerProfileSchema },
      },
    },
    async (request) => presentSellerProfile(await putSellerProfile(ctx, request.merchant!.id, request.body)),
  );
}
