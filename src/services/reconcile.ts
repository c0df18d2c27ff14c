import type { AttemptReference } from '../connectors/types.js';
import { CONNECTORS } from '../connectors/registry.js';
import { attemptToCheck, claimOpenAttemptsDue, claimUnknownAttemptsDue } from '../store/queries/reconcile.js';
import type { HubContext } from './context.js';
import { loadConnection } from './connections.js';
import { recordOperationReport } from './ledger/index.js';
import { callProcessor, isOperationError } from './processor-calls.js';

/**
 * Reconciliation: a notification can be lost (the processor gave up, a firewall ate it), so attempts left open
 * are checked against the processor's authoritative status (connectors with `statusCheck`), and what it says is
 * recorded like a notification. Checks back off: an attempt is checked when it is older than FIRST_CHECK, then
 * each time it has waited as long again as its age at the previous check, and no more after GIVE_UP.
 */
export const FIRST_CHECK_MS = 10 * 60_000;
// (Attempts whose outcome is `unknown` have a schedule of their own: checkUnknownAttempts.)
const GIVE_UP = '14 days';

/** Asks the processor about one attempt and records the answer; false when the processor could not answer. */
export async function reconcileAttempt(ctx: HubContext, attemptId: string): Promise<boolean> {
  const row = await attemptToCheck(ctx.db, attemptId);
  if (!row) return false;
  const loaded = loadConnection(ctx, row);
  const check = loaded.connector.statusCheck;
  if (!check) return false;
  const attempt: AttemptReference = {
    reference: row.attempt_id,
    processorReference: row.processor_reference,
    amount: row.attempt_amount,
    currency: row.attempt_currency,
    merchantOrderId: row.order_id,
  };
  const res = await callProcessor(ctx, loaded, 'status_check', (token) => check.request(loaded.config, attempt, token));
  if (isOperationError(res)) return false;
  const report = check.response(loaded.config, attempt, res);
  if (isOperationError(report)) {
    ctx.logger.warn({ attempt: attemptId, code: report.code, reason: report.message }, 'status check refused');
    // A refusal (no such order, a record that is not this attempt) is an answer; the rest is asked again later.
    return report.failure === 'refused';
  }
  // "Nothing new" is not worth an inbox row on every check.
  if (report.outcome.kind !== 'informational') {
    await recordOperationReport(ctx, loaded.row, { id: attempt.reference, currency: attempt.currency }, 'status_check', res.body, report);
  }
  return true;
}

/** The processors the hub can ask for an attempt's status (the connectors with a status check). */
const STATUS_CHECK_PROVIDERS = Object.values(CONNECTORS)
  .filter((c) => c.statusCheck)
  .map((c) => c.provider);

/** Checks each claimed attempt on its own: one that fails is logged and checked again later, the others go on. */
async function checkEach(ctx: HubContext, attemptIds: readonly string[], failure: string): Promise<number> {
  for (const id of attemptIds) {
    try {
      await reconcileAttempt(ctx, id);
    } catch (e) {
      ctx.logger.error({ err: e, attempt: id }, failure);
    }
  }
  return attemptIds.length;
}

/** Checks the attempts that are due (claimed with SKIP LOCKED, so processes share the work); returns how many. */
export async function reconcileOpenAttempts(ctx: HubContext, limit = 10): Promise<number> {
  if (STATUS_CHECK_PROVIDERS.length === 0) return 0;
  const due = await claimOpenAttemptsDue(ctx.db, STATUS_CHECK_PROVIDERS, GIVE_UP, FIRST_CHECK_MS, limit);
  return checkEach(ctx, due, 'reconciliation of an attempt failed; it is checked again later');
}

/**
 * The prompt check of attempts whose outcome is `unknown` (a start or 3-D Secure completion whose answer was
 * lost), keyed by the hub's own reference: first PROMPT_FIRST_CHECK_MS after the attempt became unknown, then each
 * time after waiting as long again as at the previous check (2 s, 4 s, 8 s, …) but never more than
 * PROMPT_MAX_INTERVAL_MS, for PROMPT_PHASE_MS; after that at the ordinary reconciler's pace (waiting as long again
 * as its age), until GIVE_UP. Attempts of connectors without a status check stay `unknown` for the operator.
 */
export const PROMPT_FIRST_CHECK_MS = 2_000;
export const PROMPT_MAX_INTERVAL_MS = 60_000;
export const PROMPT_PHASE_MS = 10 * 60_000;

export async function checkUnknownAttempts(ctx: HubContext, limit = 10): Promise<number> {
  if (STATUS_CHECK_PROVIDERS.length === 0) return 0;
  // `updated_at` is when the attempt became unknown (the ledger's last write to it); a check that says nothing
  // new writes nothing, so it stays the origin of the schedule.
  const schedule = { giveUp: GIVE_UP, firstCheckMs: PROMPT_FIRST_CHECK_MS, maxIntervalMs: PROMPT_MAX_INTERVAL_MS, phaseMs: PROMPT_PHASE_MS };
  const due = await claimUnknownAttemptsDue(ctx.db, STATUS_CHECK_PROVIDERS, schedule, limit);
  return checkEach(ctx, due, 'the status check of an unknown attempt failed; it is checked again later');
}
