import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import { countryByNumeric } from '../core/countries.js';
import { currencyExponent, isKnownCurrency, MoneyError, parseDecimalString, toDecimalString } from '../core/money.js';
import { effectiveStatus, type PaymentStatus } from '../core/transitions.js';
import { FieldErrors, isHttpUrl, ValidationError } from '../core/validation.js';
import type { Party } from '../connectors/types.js';
import { checkOutboundUrl, outboundOf } from '../security/outbound.js';
import type { Database, Payment, PaymentStep } from '../store/schema.js';
import {
  findPaymentStep,
  insertStepCallbackEndpoint,
  lockPaymentStep,
  updateStepProcessorResponse,
  upsertPaymentStep,
} from '../store/queries/payment-steps.js';
import { ConflictError, NotFoundError, type HubContext } from './context.js';
import { getConnection, loadConnection } from './connections.js';
import { hashRequest, isSameRequest } from './idempotency.js';
import { checkPaymentAgainstConnector, type PaymentProblem } from './payment-requirements.js';
import { getPaymentRow } from './payments.js';
import { createPayment, type LedgerCause, type LedgerHook } from './ledger/index.js';
import { paymentPageUrl } from './hub-urls.js';
import { inTransaction } from './unit-of-work.js';
import { emitEvent } from './webhooks.js';
import { STEP_LANGUAGES, STEP_TITLES, stepMessage, type StepField, type StepLanguage, type StepProblem } from './payment-step-messages.js';

/**
 * The payment step of a conversational agent (seed 000): the chat collects `Payment.*` (and optionally
 * `PaymentShipping.*`) in prompts, then calls this step once. Invalid or missing fields come back one message per
 * field in the end user's language and nothing is created; valid details create a payment whose link the agent
 * sends (`Payment.Url`). When the processor settles it, `Payment.Status` holds the processor's status document as
 * a JSON string, for the conversation's own code to `JSON.parse`.
 */

export interface PaymentStepInput {
  connection: string;
  conversation_id: string;
  step?: string;
  language?: string;
  description?: string;
  callback_url?: string;
  Payment: Record<string, unknown>;
  PaymentShipping?: Record<string, unknown>;
}

/** NETOPIA v2's limits for the billing fields (its API refuses longer values). */
const LIMITS: Record<Exclude<StepField, 'Amount' | 'Currency' | 'Country'>, number> = {
  Email: 100,
  Phone: 20,
  FirstName: 50,
  LastName: 50,
  City: 50,
  State: 50,
  ZipCode: 20,
  Details: 200,
};
const PARTY_FIELDS = ['Email', 'Phone', 'FirstName', 'LastName', 'City', 'Country', 'State', 'ZipCode', 'Details'] as const;
const EMAIL_RE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const PHONE_RE = /^\+?[0-9]{6,15}$/;

function text(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const t = value.trim();
  return t === '' ? undefined : t;
}

/** The step's language: asked for, else the connection's, else Romanian; a numeric country code picks its language. */
function stepLanguage(asked: unknown, connectionLanguage: unknown): StepLanguage {
  for (const candidate of [asked, connectionLanguage]) {
    const t = text(candidate)?.toLowerCase();
    if (!t) continue;
    if ((STEP_LANGUAGES as readonly string[]).includes(t)) return t as StepLanguage;
    if (t === '642' || t === '498') return 'ro';
    return 'en';
  }
  return 'ro';
}

interface CheckedParty {
  party: Party;
}

/** Reads one party (billing or shipping); `fallback` fills what a shipping address did not collect. */
function readParty(
  errors: Array<{ field: string; message: string }>,
  lang: StepLanguage,
  prefix: 'Payment' | 'PaymentShipping',
  raw: Record<string, unknown>,
  fallback?: Party,
): CheckedParty {
  const shipping = prefix === 'PaymentShipping';
  const fail = (field: StepField, problem: StepProblem) => errors.push({ field: `${prefix}.${field}`, message: stepMessage(lang, field, shipping, problem) });
  const values: Partial<Record<(typeof PARTY_FIELDS)[number], string>> = {};
  for (const field of PARTY_FIELDS) {
    const v = text(raw[field]);
    if (v === undefined) {
      if (!fallback) fail(field, { kind: 'missing' });
      continue;
    }
    if (field !== 'Country' && v.length > LIMITS[field]) {
      fail(field, { kind: 'too_long', max: LIMITS[field] });
      continue;
    }
    values[field] = v;
  }
  if (values.Email !== undefined && !EMAIL_RE.test(values.Email)) fail('Email', { kind: 'invalid_email' });
  const phone = values.Phone?.replace(/[\s().-]/g, '');
  if (phone !== undefined && !PHONE_RE.test(phone)) fail('Phone', { kind: 'invalid_phone' });
  let country: string | undefined;
  if (values.Country !== undefined) {
    const c = /^\d{1,3}$/.test(values.Country) ? countryByNumeric(Number(values.Country)) : undefined;
    if (!c) fail('Country', { kind: 'invalid_country' });
    else country = c.alpha2;
  }
  const base = fallback ?? ({} as Party);
  return {
    party: {
      type: 'person',
      first_name: values.FirstName ?? base.first_name,
      last_name: values.LastName ?? base.last_name,
      email: values.Email ?? base.email,
      phone: phone ?? base.phone,
      city: values.City ?? base.city,
      county: values.State ?? base.county,
      zip_code: values.ZipCode ?? base.zip_code,
      address: values.Details ?? base.address,
      country: country ?? base.country,
    },
  };
}

/** The amount as the chat wrote it, in minor units; `maxMinor` only words a number too long to read. */
function readAmount(
  errors: Array<{ field: string; message: string }>,
  lang: StepLanguage,
  raw: Record<string, unknown>,
  currency: string | undefined,
  maxMinor: number,
): number | undefined {
  const fail = (problem: StepProblem) => errors.push({ field: 'Payment.Amount', message: stepMessage(lang, 'Amount', false, problem) });
  const value = raw.Amount;
  if (value === undefined || value === null || value === '') return (fail({ kind: 'missing' }), undefined);
  // Chat platforms send decimals as numbers or as text, sometimes with a decimal comma.
  const t =
    typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : typeof value === 'string' ? value.trim().replace(/^(\d+),(\d+)$/, '$1.$2') : '';
  if (!/^-?\d+(\.\d+)?$/.test(t)) return (fail({ kind: 'invalid_amount' }), undefined);
  if (t.startsWith('-') || /^0+(\.0+)?$/.test(t)) return (fail({ kind: 'amount_not_positive' }), undefined);
  if (!currency) return undefined;
  let minor: number;
  try {
    minor = parseDecimalString(t, currency);
  } catch (e) {
    if (!(e instanceof MoneyError)) throw e;
    const decimals = currencyExponent(currency);
    const hasTooManyDecimals = (t.split('.')[1] ?? '').replace(/0+$/, '').length > decimals;
    return (
      fail(
        hasTooManyDecimals ? { kind: 'amount_decimals', decimals, currency } : { kind: 'amount_too_large', max: toDecimalString(maxMinor, currency), currency },
      ),
      undefined
    );
  }
  if (minor <= 0) return (fail({ kind: 'amount_not_positive' }), undefined);
  return minor;
}

const STEP_FIELD_OF: Record<string, StepField> = {
  first_name: 'FirstName',
  last_name: 'LastName',
  email: 'Email',
  phone: 'Phone',
  city: 'City',
  county: 'State',
  zip_code: 'ZipCode',
  address: 'Details',
  country: 'Country',
};

/** A problem of `checkPaymentAgainstConnector` as the step's field error, in the conversation's language. */
function stepProblemOf(problem: PaymentProblem, lang: StepLanguage, currency: string | undefined): { field: string; message: string } | undefined {
  switch (problem.kind) {
    case 'currency_not_accepted':
      return {
        field: 'Payment.Currency',
        message: stepMessage(lang, 'Currency', false, { kind: 'currency_not_accepted', accepted: problem.accepted.join(', ') }),
      };
    case 'amount_too_large':
      return currency
        ? {
            field: 'Payment.Amount',
            message: stepMessage(lang, 'Amount', false, { kind: 'amount_too_large', max: toDecimalString(problem.max, currency), currency }),
          }
        : undefined;
    case 'amount_too_small':
      return { field: 'Payment.Amount', message: stepMessage(lang, 'Amount', false, { kind: 'invalid_amount' }) };
    case 'flow_not_supported':
      return { field: 'connection', message: `cannot take payments on the payment page (${problem.flows.join(', ')} only)` };
    case 'missing': {
      const [party, name] = problem.field.split('.') as ['billing' | 'shipping', string];
      const field = STEP_FIELD_OF[name]!;
      const shipping = party === 'shipping';
      return { field: `${shipping ? 'PaymentShipping' : 'Payment'}.${field}`, message: stepMessage(lang, field, shipping, { kind: 'missing' }) };
    }
  }
}

/** The step as the conversation reads it. */
export function presentStep(ctx: HubContext, step: PaymentStep, payment: Payment) {
  const status = effectiveStatus(payment.status as PaymentStatus, payment.expires_at);
  return {
    object: 'payment_step' as const,
    conversation_id: step.conversation_id,
    step: step.step,
    connection_id: step.connection_id,
    payment_id: step.payment_id,
    language: step.language,
    status,
    Payment: {
      Url: paymentPageUrl(ctx, payment.id),
      Amount: toDecimalString(payment.amount, payment.currency),
      Currency: payment.currency,
      Status: step.processor_response,
    },
    created_at: new Date(step.created_at).toISOString(),
    updated_at: new Date(step.updated_at).toISOString(),
  };
}

function validateCallbackUrl(ctx: HubContext, url: unknown): string | undefined {
  if (url === undefined) return url;
  const errors = new FieldErrors();
  if (!isHttpUrl(url)) errors.add('callback_url', 'must be an http(s) URL of at most 2048 characters');
  // Delivered like a webhook (same guard at connect time); an obviously internal address is refused now.
  else checkOutboundUrl(errors, 'callback_url', outboundOf(ctx), url);
  errors.throwIfAny();
  return url as string;
}

/**
 * Runs the payment step, inside the caller's transaction. The same conversation step asked again with the same
 * details returns the same link while the payment is payable (or its final state once settled); other details
 * for a step that already has a payment are a conflict (a new step id starts a new payment).
 */
export async function runPaymentStep(
  ctx: HubContext,
  trx: Transaction<Database>,
  merchantId: string,
  input: PaymentStepInput,
): Promise<{ created: boolean; body: ReturnType<typeof presentStep> & { callback_secret?: string } }> {
  const stepId = input.step ?? 'payment';
  const request = hashRequest('POST', '/v1/payment-steps', { ...input, step: stepId, language: input.language ?? null });
  const hash = request.hash;
  // Serializes concurrent calls for one conversation step (a row lock cannot: the row may not exist yet).
  await lockPaymentStep(trx, merchantId, input.conversation_id, stepId);
  const existing = await findPaymentStep(trx, merchantId, input.conversation_id, stepId);
  if (existing) {
    if (!isSameRequest(existing.request_hash, request))
      throw new ConflictError(
        `conversation ${input.conversation_id} already has a payment for step ${JSON.stringify(stepId)} with other details; use another step id for a new payment`,
      );
    const current = await getPaymentRow(trx, merchantId, existing.payment_id);
    const status = effectiveStatus(current.status as PaymentStatus, current.expires_at);
    // A link that can no longer be paid (expired, canceled) is replaced by a new one; anything else is returned.
    if (status !== 'expired' && status !== 'canceled') return { created: false, body: presentStep(ctx, existing, current) };
  }

  const connectionErrors = new FieldErrors();
  const row = await getConnection({ ...ctx, db: trx }, merchantId, input.connection).catch((e) => {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  });
  if (!row) connectionErrors.add('connection', 'is not one of your connections (id or code)');
  else if (row.status !== 'active') connectionErrors.add('connection', 'is disabled');
  connectionErrors.throwIfAny();
  const loaded = loadConnection(ctx, row!);
  const { capabilities } = loaded.connector;
  const settings = loaded.config.settings as { default_currency?: string; language?: string };
  const lang = stepLanguage(input.language, settings.language);
  const callbackUrl = validateCallbackUrl(ctx, input.callback_url);

  const errors: Array<{ field: string; message: string }> = [];
  const payment = input.Payment ?? {};
  const currencyText = text(payment.Currency)?.toUpperCase() ?? settings.default_currency ?? 'RON';
  let currency: string | undefined = currencyText;
  if (!isKnownCurrency(currencyText)) {
    errors.push({ field: 'Payment.Currency', message: stepMessage(lang, 'Currency', false, { kind: 'unknown_currency' }) });
    currency = undefined;
  } else if (checkPaymentAgainstConnector(capabilities, { currency: currencyText }).length) {
    errors.push({
      field: 'Payment.Currency',
      message: stepMessage(lang, 'Currency', false, { kind: 'currency_not_accepted', accepted: capabilities.currencies.join(', ') }),
    });
    currency = undefined;
  }
  const amount = readAmount(errors, lang, payment, currency, capabilities.maxAmountMinor);
  const billing = readParty(errors, lang, 'Payment', payment);
  const shippingRaw = input.PaymentShipping && Object.values(input.PaymentShipping).some((v) => text(v) !== undefined) ? input.PaymentShipping : undefined;
  // Not collected: the billing details are the shipping details (the seed's rule).
  const shipping = shippingRaw ? readParty(errors, lang, 'PaymentShipping', shippingRaw, billing.party).party : billing.party;
  // What the connector declares it requires (largest amount, payer fields), in the step's words, for the fields
  // not already found wrong.
  for (const problem of checkPaymentAgainstConnector(capabilities, { amount, currency, billing: billing.party, shipping })) {
    const message = stepProblemOf(problem, lang, currency);
    if (message && !errors.some((e) => e.field === message.field)) errors.push(message);
  }
  if (errors.length) throw new ValidationError(errors, STEP_TITLES[lang]);

  const created = await createPayment(ctx, trx, merchantId, {
    connection: loaded.row.id,
    order_id: `${input.conversation_id}/${stepId}`.slice(0, 200),
    amount: amount!,
    currency: currency!,
    description: input.description ?? (lang === 'ro' ? 'Plată' : 'Payment'),
    billing: billing.party,
    shipping,
    metadata: { conversation_id: input.conversation_id, step: stepId, language: lang },
  });
  let callbackEndpointId: string | null = null;
  let callbackSecret: string | undefined;
  if (callbackUrl) {
    callbackEndpointId = `we_${created.id.slice(4)}`;
    callbackSecret = 'whsec_' + randomBytes(32).toString('base64');
    await insertStepCallbackEndpoint(trx, {
      id: callbackEndpointId,
      merchant_id: merchantId,
      url: callbackUrl,
      events: JSON.stringify(['payment_step.updated']),
      secret_encrypted: ctx.vault.encrypt(callbackSecret, `webhook_endpoint:${callbackEndpointId}`),
      payment_id: created.id,
    });
  }
  const now = new Date();
  const values = {
    connection_id: loaded.row.id,
    payment_id: created.id,
    request_hash: hash,
    language: lang,
    callback_endpoint_id: callbackEndpointId,
    processor_response: null,
    updated_at: now,
  };
  const step = await upsertPaymentStep(trx, merchantId, input.conversation_id, stepId, values, now);
  const paymentRow = await getPaymentRow(trx, merchantId, created.id);
  return { created: true, body: { ...presentStep(ctx, step, paymentRow), ...(callbackSecret ? { callback_secret: callbackSecret } : {}) } };
}

export async function getPaymentStep(ctx: HubContext, merchantId: string, conversationId: string, step = 'payment') {
  const row = await findPaymentStep(ctx.db, merchantId, conversationId, step);
  if (!row) throw new NotFoundError(`no payment step ${JSON.stringify(step)} in conversation ${JSON.stringify(conversationId)}`);
  return presentStep(ctx, row, await getPaymentRow(ctx.db, merchantId, row.payment_id));
}

/** `runPaymentStep` in its own unit of work (the outbox worker is woken once it commits). */
export function runPaymentStepOnce(ctx: HubContext, merchantId: string, input: PaymentStepInput) {
  return inTransaction(ctx, (trx) => runPaymentStep(ctx, trx, merchantId, input));
}

/**
 * Keeps the processor's latest status document on the payment's conversation step and tells the conversation
 * (`payment_step.updated`, to its callback and to subscribed endpoints). Runs inside the ledger transaction.
 */
async function recordProcessorResponse(ctx: HubContext, trx: Transaction<Database>, payment: Payment, response: Record<string, unknown>): Promise<void> {
  const steps = await updateStepProcessorResponse(trx, payment.id, response, new Date());
  for (const step of steps) {
    await emitEvent(trx, payment.merchant_id, 'payment_step.updated', payment.id, presentStep(ctx, step, payment));
  }
}

/** Outcomes a conversation is told about (its `Payment.Status`): the payment resolved one way or another. */
const CONVERSATION_OUTCOMES: ReadonlySet<string> = new Set(['captured', 'authorized', 'failed', 'canceled', 'refunded']);

/** A processor's statement that carries its status document for a conversation (`summary.processor_response`). */
function conversationResponse(cause: LedgerCause): Record<string, unknown> | undefined {
  if (cause.kind !== 'outcome' || !CONVERSATION_OUTCOMES.has(cause.outcome)) return undefined;
  const response = cause.summary.processor_response;
  return typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : undefined;
}

/**
 * The payment steps' ledger hook, registered where the hub is built: a statement that carries a processor's
 * status document updates the payment's conversation step in the ledger's transaction (and so takes its locked
 * path); every other change passes it by.
 */
export function paymentStepHook(ctx: HubContext): LedgerHook {
  return {
    name: 'payment-steps',
    wants: (cause) => conversationResponse(cause) !== undefined,
    onPaymentChanged: (trx, _before, after, cause) => recordProcessorResponse(ctx, trx, after, conversationResponse(cause)!),
  };
}
