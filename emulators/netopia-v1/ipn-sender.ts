import { sql } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import { parseCrcReply } from '../../src/connectors/netopia-v1/crc-reply.js';
import { loadPublicKey, sealEnvelope } from '../../src/connectors/netopia-v1/envelope.js';
import { buildIpnXml, type V1Mobilpay } from '../../src/connectors/netopia-v1/ipn-xml.js';
import { postForm, type PostResult } from './http-post.js';
import type { AttemptOutcome, EmuDb, IpnCipher } from './schema.js';

export interface IpnRetryOptions {
  baseDelayMs: number;
  maxAttempts: number;
  timeoutMs: number;
  pollMs: number;
}

/** The longest wait between two attempts of one IPN. */
const MAX_DELAY_MS = 3600_000;
/** Reply text kept in the delivery log. */
const LOGGED_REPLY_CHARS = 2048;
/** Due deliveries one worker claims per round trip to the database. */
const BATCH = 10;

interface ClaimedDelivery {
  id: number;
  attempts: number;
  mobilpay: V1Mobilpay;
  request_xml: string;
  confirm_url: string;
  ipn_cipher: IpnCipher;
  ipn_public_key_pem: string;
}

interface Verdict {
  outcome: AttemptOutcome;
  error: string | null;
}

/**
 * How NETOPIA judges a confirm URL's answer (protocols/netopia.md §1.6). A permanent error in the crc reply
 * wins over the HTTP status (some merchants answer it with a 4xx); otherwise only a 2xx `<crc>` without
 * error_type counts as delivered, and everything else — error_type 1, another status, no answer, an
 * unreadable body — is retried.
 */
function judge(result: PostResult): Verdict {
  if (result.status === undefined) return { outcome: 'retry', error: result.error ?? 'no reply' };
  const crc = parseCrcReply(result.body);
  if (crc.errorType === 2) return { outcome: 'failed', error: `permanent error (error_type 2, error_code ${crc.errorCode}): ${crc.message}` };
  if (result.status < 200 || result.status > 299) return { outcome: 'retry', error: `HTTP ${result.status}` };
  if (crc.errorType === 0) return { outcome: 'delivered', error: null };
  return { outcome: 'retry', error: `temporary error (error_type 1, error_code ${crc.errorCode}): ${crc.message}` };
}

const RETURNING = sql`RETURNING d.id, d.attempts, d.mobilpay, o.request_xml, o.confirm_url, o.ipn_cipher, a.ipn_public_key_pem`;

/**
 * Sends IPNs to merchants' confirm URLs and retries them from a durable queue (the deliveries table).
 * A claim is a lease: the claiming statement bumps `attempts` and pushes `next_attempt_at` past the HTTP
 * deadline, so no transaction (and, on PGlite, no connection) is held during the call, other processes
 * skip the row, and a process that dies mid-attempt only delays that IPN until the lease runs out.
 */
export class IpnSender {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly db: EmuDb,
    private readonly options: IpnRetryOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** How long a claimed delivery stays invisible to other workers: the HTTP deadline plus a margin. */
  get leaseMs(): number {
    return this.options.timeoutMs + 30_000;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops polling and waits for attempts under way, so their outcome is recorded before the store closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * The first attempt of a freshly queued delivery, made by the request that caused it (NETOPIA calls the
   * confirm URL before it sends the customer back). Never throws: the worker retries what fails here.
   */
  async deliverNow(deliveryId: number): Promise<AttemptOutcome | undefined> {
    return this.track(async () => {
      const { rows } = await sql<ClaimedDelivery>`
        UPDATE emu_netopia_v1_ipn_deliveries d
        SET attempts = d.attempts + 1, next_attempt_at = now() + ${this.leaseMs} * interval '1 millisecond', updated_at = now()
        FROM emu_netopia_v1_orders o JOIN emu_netopia_v1_accounts a ON a.signature = o.signature
        WHERE d.id = ${deliveryId} AND d.status = 'pending' AND d.attempts = 0 AND o.purchase = d.purchase
        ${RETURNING}`.execute(this.db);
      return rows[0] && this.attempt(rows[0]);
    });
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.track(() => this.poll()).finally(() => this.schedule(this.options.pollMs)), delayMs);
    // The queue is durable; a pending retry is no reason to keep the process alive.
    this.timer.unref();
  }

  private async track<T>(work: () => Promise<T>): Promise<T | undefined> {
    const promise = work().catch((err: unknown) => {
      this.log.error({ err }, 'NETOPIA emulator: IPN delivery failed to run');
      return undefined;
    });
    this.inFlight.add(promise);
    try {
      return await promise;
    } finally {
      this.inFlight.delete(promise);
    }
  }

  private async poll(): Promise<void> {
    while (!this.stopped) {
      const { rows } = await sql<ClaimedDelivery>`
        UPDATE emu_netopia_v1_ipn_deliveries d
        SET attempts = d.attempts + 1, next_attempt_at = now() + ${this.leaseMs} * interval '1 millisecond', updated_at = now()
        FROM emu_netopia_v1_orders o JOIN emu_netopia_v1_accounts a ON a.signature = o.signature
        WHERE o.purchase = d.purchase AND d.id IN (
          SELECT id FROM emu_netopia_v1_ipn_deliveries
          WHERE status = 'pending' AND next_attempt_at <= now()
          ORDER BY next_attempt_at, id
          LIMIT ${BATCH}
          FOR UPDATE SKIP LOCKED)
        ${RETURNING}`.execute(this.db);
      await Promise.all(rows.map((row) => this.attempt(row)));
      if (rows.length < BATCH) return;
    }
  }

  private async attempt(raw: ClaimedDelivery): Promise<AttemptOutcome> {
    const delivery = { ...raw, id: Number(raw.id) };
    const startedAt = new Date();
    const started = performance.now();
    let result: PostResult;
    let verdict: Verdict;
    try {
      const xml = buildIpnXml(delivery.request_xml, delivery.mobilpay);
      const sealed = sealEnvelope(xml, loadPublicKey(delivery.ipn_public_key_pem), delivery.ipn_cipher);
      // NETOPIA names the cipher on every IPN; iv exists only with AES.
      const form: Record<string, string> = { env_key: sealed.env_key, data: sealed.data, cipher: sealed.cipher };
      if (sealed.iv) form.iv = sealed.iv;
      result = await postForm(delivery.confirm_url, form, this.options.timeoutMs);
      verdict = judge(result);
    } catch (err) {
      // Stored data that cannot be sealed would fail the same way on every retry: record it once, as final.
      result = { body: '' };
      verdict = { outcome: 'failed', error: `the IPN could not be built: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (verdict.outcome === 'retry' && delivery.attempts >= this.options.maxAttempts) verdict.outcome = 'gave_up';
    const delayMs = Math.min(this.options.baseDelayMs * 2 ** (delivery.attempts - 1), MAX_DELAY_MS);
    await this.record(delivery, verdict, { startedAt, durationMs: Math.round(performance.now() - started), result, delayMs });
    return verdict.outcome;
  }

  private async record(
    delivery: ClaimedDelivery,
    verdict: Verdict,
    run: { startedAt: Date; durationMs: number; result: PostResult; delayMs: number },
  ): Promise<void> {
    const retry = verdict.outcome === 'retry';
    const status = verdict.outcome === 'delivered' ? 'delivered' : retry ? 'pending' : 'failed';
    await this.db.transaction().execute(async (trx) => {
      // The attempts guard drops the record of a claim whose lease ran out and was taken over.
      const updated = await trx
        .updateTable('emu_netopia_v1_ipn_deliveries')
        .set({
          status,
          next_attempt_at: retry ? sql<Date>`now() + ${run.delayMs} * interval '1 millisecond'` : null,
          updated_at: new Date(),
        })
        .where('id', '=', delivery.id)
        .where('attempts', '=', delivery.attempts)
        .returning('next_attempt_at')
        .executeTakeFirst();
      if (!updated) return;
      await trx
        .insertInto('emu_netopia_v1_ipn_attempts')
        .values({
          delivery_id: delivery.id,
          attempt: delivery.attempts,
          started_at: run.startedAt,
          duration_ms: run.durationMs,
          http_status: run.result.status ?? null,
          reply: run.result.status === undefined ? null : run.result.body.slice(0, LOGGED_REPLY_CHARS),
          outcome: verdict.outcome,
          error: verdict.error,
          next_retry_at: updated.next_attempt_at,
        })
        .execute();
    });
  }
}
