import type { Transaction } from 'kysely';
import { newId } from '../../core/ids.js';
import { isKnownCurrency } from '../../core/money.js';
import { FieldErrors, isHttpUrl, ValidationError } from '../../core/validation.js';
import type { Party } from '../../connectors/types.js';
import type { Connection, Database, Payment, PaymentAttempt } from '../../store/schema.js';
import { insertPayment, insertPaymentBatch, type PaymentWrite, type WriteOutcome } from '../../store/queries/payments.js';
import { TurnQueue } from '../../store/turn-batch.js';
import type { Db } from '../../store/store.js';
import { NotFoundError, type HubContext } from '../context.js';
import { cacheSlot } from '../hub-caches.js';
import { getConnection, loadConnection, type LoadedConnection } from '../connections.js';
import { replayStored, type IdempotencyClaim, type StoredResponse } from '../idempotency.js';
import { checkPaymentAgainstConnector, problemMessage } from '../payment-requirements.js';
import { redirectInput } from '../attempt-input.js';
import { noteOutboxWrite } from '../unit-of-work.js';
import { paymentSnapshot, presentAttempt } from './snapshots.js';

/**
 * The surfaces that make payments of their own (`payments.surface`); null for the API's and compat payments. A
 * column rather than a reserved key in `metadata`: only the hub sets it (a merchant's request cannot, so no key has
 * to be refused in merchant metadata, and no merchant payment can pass for an invoice's), and it is in the row the
 * ledger reads anyway, so a hook recognises its payments without I/O.
 */
export type PaymentSurface = 'invoice';

export interface CreatePaymentInput {
  connection: string;
  order_id: string;
  amount: number;
  currency: string;
  description: string;
  billing: Party;
  shipping?: Party;
  return_url?: string;
  expires_at?: string;
  metadata?: Record<string, unknown>;
}

function checkCreateInput(input: CreatePaymentInput, loaded: LoadedConnection | undefined) {
  const errors = new FieldErrors();
  if (!isKnownCurrency(input.currency)) errors.add('currency', 'is not a known ISO 4217 currency');
  if (loaded) {
    // What the connector declares it needs (currency, largest amount, payer fields): a payment it could never open
    // is refused here, naming the field, rather than failing when the payer opens it.
    const facts = { ...input, currency: isKnownCurrency(input.currency) ? input.currency : undefined };
    for (const problem of checkPaymentAgainstConnector(loaded.connector.capabilities, facts))
      errors.add(problem.field, problemMessage(problem, loaded.row.provider));
  }
  if (input.expires_at !== undefined) {
    const t = Date.parse(input.expires_at);
    if (Number.isNaN(t)) errors.add('expires_at', 'must be an RFC 3339 date-time');
    else if (t <= Date.now()) errors.add('expires_at', 'must be in the future');
  }
  if (input.metadata !== undefined && JSON.stringify(input.metadata).length > 8192) errors.add('metadata', 'must serialize to at most 8 KiB');
  // The payment page links to it (for a payment that did not go through): only a web address, never `javascript:`.
  if (input.metadata?.canceled_url != null && !isHttpUrl(input.metadata.canceled_url)) errors.add('metadata.canceled_url', 'must be an absolute http(s) URL');
  // The payer's language (ISO 639-1): the payment pages speak it, and the processor is asked to.
  if (input.metadata?.language != null && (typeof input.metadata.language !== 'string' || !/^[a-zA-Z]{2}$/.test(input.metadata.language)))
    errors.add('metadata.language', 'must be an ISO 639-1 language code of two letters, e.g. ro, en or it');
  errors.throwIfAny();
}

/**
 * A new attempt (the processor hand-off for one try): its row, with the browser form the connector built. For
 * processors opened by an API call the redirect stays empty until the customer opens the page (`startAttempt`).
 */
export function newAttempt(ctx: HubContext, payment: Payment, loaded: LoadedConnection, number: number, now: Date): PaymentAttempt {
  const id = newId('att');
  const redirect = loaded.connector.createRedirect?.(loaded.config, redirectInput(ctx, payment, loaded, id, now));
  return {
    id,
    payment_id: payment.id,
    number,
    provider: loaded.row.provider,
    status: 'created',
    amount: payment.amount,
    currency: payment.currency,
    processor_reference: null,
    action: null,
    error_code: null,
    error_message: null,
    pan_masked: null,
    redirect: (redirect ?? null) as unknown as Record<string, unknown> | null,
    created_at: now,
    updated_at: now,
    reconciled_at: null,
  };
}

/**
 * The active connections payment requests named lately, by merchant and id or code, as last read. A hit saves the
 * read; the write then checks that the row is still active and unchanged (its `updated_at`, which every change
 * moves), so a connection disabled, re-keyed or renamed meanwhile, by this process or another, is read again.
 */
const activeConnectionsSlot = cacheSlot('active connections named by payment requests', () => new Map<string, Connection>());

/** A payment built and checked from a request and its connection, ready to be written in one statement. */
export interface PreparedPayment {
  payment: Payment;
  attempt: PaymentAttempt;
  /** The connection's version the payment was built from (`updated_at`, in milliseconds). */
  connectionVersion: Date;
  /** Whether the connection came from `activeConnections` rather than a read in this request. */
  cachedConnection: boolean;
  /** The payment as its `payment.created` event shows it. */
  snapshot: ReturnType<typeof paymentSnapshot>;
  /** What the API answers for it (also what an Idempotency-Key replays). */
  response: ReturnType<typeof paymentSnapshot> & { attempts: ReturnType<typeof presentAttempt>[]; notifications: [] };
}

/**
 * Reads the connection a payment request names, checks the request against it and builds the payment with its
 * first attempt (the sealed processor request). Writes nothing: `writePayment` does.
 */
export async function preparePayment(
  ctx: HubContext,
  db: HubContext['db'],
  merchantId: string,
  input: CreatePaymentInput,
  fresh = false,
  surface: PaymentSurface | null = null,
): Promise<PreparedPayment> {
  let loaded: LoadedConnection | undefined;
  const errors = new FieldErrors();
  const cacheKey = `${merchantId}\n${input.connection}`;
  const activeConnections = ctx.caches.of(activeConnectionsSlot);
  const cached = fresh ? undefined : activeConnections.get(cacheKey);
  if (cached) loaded = loadConnection(ctx, cached);
  else {
    activeConnections.delete(cacheKey);
    try {
      const row = await getConnection({ ...ctx, db }, merchantId, input.connection);
      if (row.status !== 'active') errors.add('connection', 'is disabled');
      else {
        loaded = loadConnection(ctx, row);
        if (activeConnections.size >= 1000) activeConnections.clear();
        activeConnections.set(cacheKey, row);
      }
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
      errors.add('connection', 'is not one of your connections (id or code)');
    }
  }
  errors.throwIfAny();
  checkCreateInput(input, loaded);
  const now = new Date();
  const payment: Payment = {
    id: newId('pay'),
    merchant_id: merchantId,
    connection_id: loaded!.row.id,
    order_id: input.order_id,
    amount: input.amount,
    currency: input.currency,
    description: input.description,
    billing: input.billing as unknown as Record<string, unknown>,
    shipping: (input.shipping ?? null) as Record<string, unknown> | null,
    return_url: input.return_url ?? null,
    expires_at: input.expires_at ? new Date(input.expires_at) : null,
    metadata: input.metadata ?? {},
    status: 'pending',
    amount_authorized: 0,
    amount_captured: 0,
    amount_refunded: 0,
    paid_late: false,
    created_at: now,
    updated_at: now,
    surface,
  };
  const attempt = newAttempt(ctx, payment, loaded!, 1, now);
  const snapshot = paymentSnapshot(ctx, payment);
  return {
    payment,
    attempt,
    connectionVersion: new Date(loaded!.row.updated_at),
    cachedConnection: cached !== undefined,
    snapshot,
    response: { ...snapshot, attempts: [presentAttempt(attempt)], notifications: [] },
  };
}

function paymentWrite(prepared: PreparedPayment, claim?: IdempotencyClaim): PaymentWrite {
  const { payment: p } = prepared;
  return {
    payment: p,
    attempt: prepared.attempt,
    connectionVersion: prepared.connectionVersion,
    response: prepared.response,
    event: { merchantId: p.merchant_id, type: 'payment.created', paymentId: p.id, data: prepared.snapshot },
    claim: claim ? { key: claim.key, hash: claim.hash } : undefined,
  };
}

/**
 * Writes a prepared payment in one statement, which also claims the request's Idempotency-Key when it has one
 * (the payment is written only if the key was not claimed before) and re-checks that the connection is still
 * active and unchanged (it may have been disabled or changed since it was read). Answers which of the two held;
 * a payment built from a connection that has changed is refused as if the connection were disabled.
 *
 * On the hub's own database (not inside a caller's transaction), the payments of one event-loop turn are written
 * together by one statement, which gives each the same answer as a statement of its own.
 */
export async function writePayment(ctx: HubContext, db: HubContext['db'], prepared: PreparedPayment, claim?: IdempotencyClaim): Promise<WriteOutcome> {
  const write = paymentWrite(prepared, claim);
  const row = db === ctx.db ? await ctx.caches.of(paymentWrites).push(write) : await insertPayment(db, write);
  if (!row.live) throw new ValidationError([{ field: 'connection', message: 'is disabled' }]);
  if (row.claimed) {
    noteOutboxWrite(ctx, db);
    ctx.logger.debug(
      {
        payment: prepared.payment.id,
        attempt: prepared.attempt.id,
        merchant: prepared.payment.merchant_id,
        amount: prepared.payment.amount,
        currency: prepared.payment.currency,
      },
      'payment created',
    );
  }
  return row;
}

/**
 * Per database, the payment writes of the current event-loop turn. Two payments of one batch with the same key
 * are refused by the batch, and then written one by one (the queue's fallback), which settles who claimed it first.
 */
const paymentWrites = cacheSlot(
  'payments written in this turn',
  (db) =>
    new TurnQueue<PaymentWrite, WriteOutcome>({
      batch: (writes) => {
        const claimed = writes.filter((w) => w.claim);
        if (new Set(claimed.map((w) => `${w.payment.merchant_id}\n${w.claim!.key}`)).size !== claimed.length)
          throw new Error('one Idempotency-Key twice in a batch');
        return insertPaymentBatch(db, writes);
      },
      single: (w) => insertPayment(db, w),
      maxBatch: 64,
    }),
);

/**
 * Creates a payment and its first attempt (the sealed processor request), inside the caller's transaction.
 * `surface` marks a payment a surface makes for itself (an invoice's pay link), so its ledger hook recognises the
 * payment from the row alone (`LedgerHook.wants`).
 */
export async function createPayment(
  ctx: HubContext,
  trx: Transaction<Database>,
  merchantId: string,
  input: CreatePaymentInput,
  surface: PaymentSurface | null = null,
) {
  return (await prepareAndWrite(ctx, trx, merchantId, input, undefined, surface)).prepared.response;
}

/**
 * Prepares and writes a payment; when the connection came from the cache and has changed since, once more from
 * a fresh read (which says "is disabled" if that is what changed).
 */
async function prepareAndWrite(
  ctx: HubContext,
  db: Db,
  merchantId: string,
  input: CreatePaymentInput,
  claim?: IdempotencyClaim,
  surface: PaymentSurface | null = null,
) {
  for (let fresh = false; ; fresh = true) {
    const prepared = await preparePayment(ctx, db, merchantId, input, fresh, surface);
    try {
      return { prepared, written: await writePayment(ctx, db, prepared, claim) };
    } catch (e) {
      if (!(e instanceof ValidationError) || !prepared.cachedConnection) throw e;
    }
  }
}

/**
 * `POST /v1/payments`: creates a payment once per Idempotency-Key, in one write (no explicit transaction), after
 * a read of the connection unless it is remembered. A request whose key was claimed before gets the stored
 * response.
 */
export async function createPaymentOnce(ctx: HubContext, merchantId: string, input: CreatePaymentInput, claim?: IdempotencyClaim): Promise<StoredResponse> {
  const { prepared, written } = await prepareAndWrite(ctx, ctx.db, merchantId, input, claim);
  if (!written.claimed) return replayStored(ctx.db, merchantId, claim!);
  return { status: 201, body: prepared.response, replayed: false };
}
