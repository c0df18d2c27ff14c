import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Environment, InboundNotification, NotificationVerdict } from '../connectors/types.js';
import type { Secret } from '../security/secret.js';
import type { VerifyJob } from './verify-worker.js';

/**
 * What a verification thread needs of a connection: plain data, so the pool knows nothing of how connections are
 * loaded (and the threads rebuild the connector's config from it, cached per `stamp`).
 */
export interface VerifyTarget {
  id: string;
  provider: string;
  /** The version of the connection's row (its `updated_at` in milliseconds): the threads' cache key. */
  stamp: number;
  /** The decrypted credentials as stored (JSON); revealed only into the job posted to a thread. */
  credentials: Secret<string>;
  /** The settings as stored (the thread parses them, as the main thread does). */
  settings: unknown;
  environment: Environment;
  endpoint: string;
}

/** Notifications queued on one verification thread at a time (they are verified one after another there). */
const VERIFY_TASKS_PER_THREAD = 16;

/** Verifies notifications off the calling thread (what `HubContext.verifier` holds). */
export interface NotificationVerifier {
  verify(target: VerifyTarget, n: InboundNotification): Promise<NotificationVerdict>;
  close(): Promise<void>;
}

/**
 * Spreads notification verification over worker threads (piscina). Opening a NETOPIA v1 envelope is an RSA-2048
 * private operation and reading it an XML parse: CPU work that would otherwise serialize every notification on
 * the main thread, which must stay free for HTTP and the database. A thread that dies fails only the request it
 * was running (the processor is asked to retry) and piscina starts another in its place.
 */
export class VerifyPool implements NotificationVerifier {
  private readonly pool: Piscina<VerifyJob, NotificationVerdict>;
  private closed = false;

  /** `worker` replaces the thread's module (a test's, to make a thread die). */
  constructor(
    readonly size: number = availableParallelism(),
    worker: URL = new URL('./verify-worker-boot.mjs', import.meta.url),
  ) {
    this.pool = new Piscina({
      filename: worker.href,
      minThreads: size,
      maxThreads: size,
      // The threads stay: starting one loads tsx and every connector, far slower than a verification.
      idleTimeout: Number.POSITIVE_INFINITY,
      // Each thread gets the next notifications while it works on one: with one task per thread (piscina's
      // default), a thread waits for the busy main thread to see its answer before it gets more work, and the
      // answers trickle in one per turn, so the inbox's and the ledger's turn batches shrink (on PostgreSQL the
      // benchmark's IPNs took 2.5 statements each instead of 1.7, and a quarter more CPU).
      concurrentTasksPerWorker: VERIFY_TASKS_PER_THREAD,
      // Nobody reads piscina's run and wait time histograms: not recording them saves work on every notification.
      recordTiming: false,
    });
  }

  verify(target: VerifyTarget, n: InboundNotification): Promise<NotificationVerdict> {
    if (this.closed) return Promise.reject(new Error('the verification pool is closed'));
    return this.pool.run(verifyJob(target, n)).catch((e: unknown) => {
      throw new Error(`verification failed: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.destroy();
  }
}

/**
 * The job posted to a thread: the connection, and the notification whole. Every field of the notification is
 * copied (structured clone), not a chosen few: a field the pool forgot (the query string once) would make the
 * threads' verdict differ from the main thread's.
 */
export function verifyJob(target: VerifyTarget, n: InboundNotification): VerifyJob {
  const { credentials, ...connection } = target;
  return { connection: { ...connection, credentials: credentials.reveal() }, notification: { ...n } };
}
