import type { AttemptReference, OperationError, OperationReport, Redirect } from '../connectors/types.js';
import type { Payment, PaymentAttempt } from '../store/schema.js';
import { attemptRedirect, latestAttempt, latestStartSummary } from '../store/queries/attempt-start.js';
import type { HubContext } from './context.js';
import { cacheSlot } from './hub-caches.js';
import { loadPaymentConnection, type LoadedConnection } from './connections.js';
import { recordOperationReport, storeHandOff, storeNextChallenge } from './ledger/index.js';
import { redirectInput } from './attempt-input.js';
import { callProcessor, isOperationError } from './processor-calls.js';

export type StartOutcome =
  | { kind: 'redirect'; redirect: Redirect }
  /** The processor settled the attempt at once (approved or declined): show the payment's status. */
  | { kind: 'resolved' }
  /** The processor could not be asked now (nothing reached it); the customer may try again in a moment. */
  | { kind: 'unavailable'; message: string }
  /** The processor may have acted on the call and its answer was lost: the attempt is `unknown` until its status says. */
  | { kind: 'unknown' };

/**
 * Opens an attempt with the processor's API (connectors with `start`), outside any transaction: the processor
 * (or the built-in emulator, which shares the database) may take seconds. The answer is stored on the attempt
 * only if no other request stored one first, so two customers' tabs racing end on one hand-off.
 */
export function startAttempt(ctx: HubContext, payment: Payment, attempt: PaymentAttempt, loaded: LoadedConnection): Promise<StartOutcome> {
  // Two tabs of one customer in this process share one call; across processes the stored answer decides.
  const inflight = ctx.caches.of(startsInFlight);
  const running = inflight.get(attempt.id);
  if (running) return running;
  const call = callStart(ctx, payment, attempt, loaded).finally(() => inflight.delete(attempt.id));
  inflight.set(attempt.id, call);
  return call;
}

const startsInFlight = cacheSlot('processor starts in flight', () => new Map<string, Promise<StartOutcome>>());

/** The hand-off another request stored for this attempt meanwhile, if any. */
async function storedRedirect(ctx: HubContext, attemptId: string): Promise<Redirect | null> {
  const row = await attemptRedirect(ctx.db, attemptId);
  return (row?.redirect ?? null) as unknown as Redirect | null;
}

/**
 * The hub's conclusion that a call may have been carried out without an answer reaching it, as a report for the
 * ledger: the attempt becomes `unknown` (once: one key per attempt and call). Says whether the hub will ask the
 * processor's status or the operator must look in the processor's back office.
 */
function unknownReport(call: 'start' | 'authentication', attemptId: string, error: OperationError, statusCheck: boolean): OperationReport {
  const next = statusCheck ? 'the hub asks the processor for its status' : 'this processor has no status check: look the order up in its back office';
  return {
    outcome: { kind: 'unknown', code: error.code, message: `${error.message}; ${next}` },
    dedupeKey: `${call}-unknown:${attemptId}`,
    summary: { action: statusCheck ? 'outcome_unknown' : 'outcome_unknown_check_back_office', code: error.code, message: error.message },
  };
}

/** What a failed call does to its attempt: `unavailable` (nothing happened), or `unknown` recorded in the ledger. */
async function recordUnknown(
  ctx: HubContext,
  loaded: LoadedConnection,
  attempt: { id: string; currency: string },
  call: 'start' | 'authentication',
  error: OperationError,
  rawAnswer: string,
): Promise<StartOutcome> {
  ctx.logger.warn(
    { attempt: attempt.id, provider: loaded.row.provider, call, code: error.code },
    'the processor may have carried out the call; the attempt is unknown until its status says',
  );
  await recordOperationReport(ctx, loaded.row, attempt, call, rawAnswer, unknownReport(call, attempt.id, error, loaded.connector.statusCheck !== undefined));
  return { kind: 'unknown' };
}

/** A processor's refusal of one of the hub's calls, as the failure of the attempt it was about. */
function refusalReport(call: 'start' | 'authentication', attemptId: string, refusal: OperationError): OperationReport {
  return {
    outcome: { kind: 'failed', code: refusal.code, message: refusal.message },
    dedupeKey: `${call}-refused:${attemptId}`,
    summary: { action: `${call}_refused`, code: refusal.code, message: refusal.message },
  };
}

async function callStart(ctx: HubContext, payment: Payment, attempt: PaymentAttempt, loaded: LoadedConnection): Promise<StartOutcome> {
  const start = loaded.connector.start!;
  const input = redirectInput(ctx, payment, loaded, attempt.id, new Date(attempt.created_at));
  const target = { id: attempt.id, currency: attempt.currency };
  const res = await callProcessor(ctx, loaded, 'start', (token) => start.request(loaded.config, input, token));
  if (isOperationError(res)) {
    if (res.failure !== 'unknown') return { kind: 'unavailable', message: res.message };
    // Another tab of the payer may have got the answer meanwhile (across processes).
    const winner = await storedRedirect(ctx, attempt.id);
    if (winner) return { kind: 'redirect', redirect: winner };
    return recordUnknown(ctx, loaded, target, 'start', res, '');
  }
  const result = start.response(loaded.config, input, res);
  switch (result.kind) {
    case 'redirect': {
      const stored = await storeHandOff(ctx, attempt.id, result.redirect, result.processorReference ?? null);
      if (result.report) await recordOperationReport(ctx, loaded.row, target, 'start', res.body, result.report);
      if (stored) return { kind: 'redirect', redirect: result.redirect };
      return { kind: 'redirect', redirect: (await storedRedirect(ctx, attempt.id)) ?? result.redirect };
    }
    case 'resolved': {
      // A refusal because another process already opened this order ("duplicate order id") is not a decline.
      const winner = result.report.outcome.kind === 'failed' ? await storedRedirect(ctx, attempt.id) : null;
      if (winner) return { kind: 'redirect', redirect: winner };
      await recordOperationReport(ctx, loaded.row, target, 'start', res.body, result.report);
      return { kind: 'resolved' };
    }
    case 'error': {
      if (result.failure === 'unreachable') return { kind: 'unavailable', message: result.message };
      const winner = await storedRedirect(ctx, attempt.id);
      if (winner) return { kind: 'redirect', redirect: winner };
      if (result.failure === 'unknown') return recordUnknown(ctx, loaded, target, 'start', result, res.body);
      // A refusal (bad credentials, a field the processor rejects) fails this attempt with its reason; the
      // payment stays payable, and the merchant sees why.
      await recordOperationReport(ctx, loaded.row, target, 'start', res.body, refusalReport('start', attempt.id, result));
      return { kind: 'resolved' };
    }
  }
}

/**
 * Finishes an attempt whose start sent the customer to the bank for 3-D Secure (connectors with
 * `completeAuthentication`): the bank posted its result to the return page, and the processor is asked to
 * finish. Returns null when there is nothing to finish (no such attempt, already settled, not a 3-D Secure start).
 */
export async function completeAuthentication(ctx: HubContext, paymentId: string, form: Record<string, string>): Promise<StartOutcome | null> {
  const attempt = await latestAttempt(ctx.db, paymentId);
  if (!attempt || attempt.status !== 'created') return null;
  const loaded = await loadPaymentConnection(ctx, paymentId);
  const complete = loaded.connector.completeAuthentication;
  if (!complete) return null;
  // What the start's answer said (the authentication token), as its report kept it in the inbox.
  const started = await latestStartSummary(ctx.db, attempt.id);
  if (!started?.summary) return null;
  const reference: AttemptReference = {
    reference: attempt.id,
    processorReference: attempt.processor_reference,
    amount: attempt.amount,
    currency: attempt.currency,
  };
  const target = { id: attempt.id, currency: attempt.currency };
  const res = await callProcessor(ctx, loaded, 'complete_authentication', (token) => complete.request(loaded.config, reference, started.summary!, form, token));
  if (isOperationError(res))
    return res.failure === 'unknown' ? recordUnknown(ctx, loaded, target, 'authentication', res, '') : { kind: 'unavailable', message: res.message };
  const result = complete.response(loaded.config, reference, res);
  switch (result.kind) {
    case 'redirect':
      // Another challenge: the customer goes on to it.
      if (result.report) await recordOperationReport(ctx, loaded.row, target, 'authentication', res.body, result.report);
      await storeNextChallenge(ctx, attempt.id, result.redirect);
      return { kind: 'redirect', redirect: result.redirect };
    case 'resolved':
      await recordOperationReport(ctx, loaded.row, target, 'authentication', res.body, result.report);
      return { kind: 'resolved' };
    case 'error':
      if (result.failure === 'unreachable') return { kind: 'unavailable', message: result.message };
      if (result.failure === 'unknown') return recordUnknown(ctx, loaded, target, 'authentication', result, res.body);
      await recordOperationReport(ctx, loaded.row, target, 'authentication', res.body, refusalReport('authentication', attempt.id, result));
      return { kind: 'resolved' };
  }
}
