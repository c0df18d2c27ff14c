import { createRequire } from 'node:module';
import { selectOne } from '../store/queries/health.js';
import { selectDatabaseFacts, selectDeliveryHealth, selectInboxBacklog, selectRefusedNotifications } from '../store/queries/operator.js';
import type { HubContext } from './context.js';
import { cacheSlot } from './hub-caches.js';

/** The hub's version, as its package says. */
export const HUB_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** Resolves once the database answers a trivial query (the readiness probe sets its own deadline). */
export async function databaseAnswers(ctx: Pick<HubContext, 'db'>): Promise<void> {
  await selectOne(ctx.db);
}

/** What this process's background worker last did (worker.ts writes it; the operator's health page reads it). */
export interface WorkerPulse {
  /** When the worker started in this process; null: no worker runs here. */
  startedAt: Date | null;
  /** How often its janitors should run. */
  pollMs: number;
  /** The janitor pass running now, if one is. */
  passStartedAt: Date | null;
  /** The last finished pass: when it ended and how long it took. */
  lastPassEndedAt: Date | null;
  lastPassMs: number | null;
  passes: number;
}

export const workerPulse = cacheSlot<WorkerPulse>('the worker pulse (last janitor pass)', () => ({
  startedAt: null,
  pollMs: 0,
  passStartedAt: null,
  lastPassEndedAt: null,
  lastPassMs: null,
  passes: 0,
}));

/** Which database the hub uses, read from the server's own `version()`. */
export interface DatabaseFacts {
  kind: 'pglite' | 'postgresql';
  /** PGlite's version (PGlite), else the server's. */
  version: string;
  /** The PostgreSQL version inside (PGlite) or the server's. */
  postgresVersion: string;
  sizeBytes: number | null;
}

export function describeDatabase(version: string, sizeBytes: number | null): DatabaseFacts {
  const postgresVersion = /^PostgreSQL (\S+)/.exec(version)?.[1] ?? version.slice(0, 40);
  const pglite = /\(PGlite ([^)\s]+)\)/.exec(version);
  return pglite
    ? { kind: 'pglite', version: pglite[1]!, postgresVersion, sizeBytes }
    : { kind: 'postgresql', version: postgresVersion, postgresVersion, sizeBytes };
}

export interface HubHealth {
  at: Date;
  worker: {
    running: boolean;
    pollMs: number;
    /** How late the janitors are: the time past their pace since the last pass ended (or the current one began). */
    janitorsLateMs: number;
    lastPassEndedAt: Date | null;
    lastPassMs: number | null;
    passes: number;
  };
  deliveries: {
    due: number;
    /** How late the delivery loop is: the age of the oldest delivery that is due. */
    oldestDueMs: number;
    retrying: number;
    failed: number;
    failedLastDay: number;
  };
  inbox: { waiting: number; oldestMs: number };
  refusedLastHour: Array<{ provider: string; reason: string; count: number; lastAt: Date }>;
  database: DatabaseFacts;
  process: { version: string; uptimeS: number; node: string; pid: number };
}

/** The hub's health as the operator reads it: the worker's lag, the webhook outbox, the inbox, refusals, the database. */
export async function hubHealth(ctx: Pick<HubContext, 'db' | 'caches'>): Promise<HubHealth> {
  const now = new Date();
  const [deliveries, inbox, refused, db] = await Promise.all([
    selectDeliveryHealth(ctx.db, now),
    selectInboxBacklog(ctx.db),
    selectRefusedNotifications(ctx.db, new Date(now.getTime() - 3_600_000), 50),
    selectDatabaseFacts(ctx.db),
  ]);
  const pulse = ctx.caches.of(workerPulse);
  const since = (d: Date | null) => (d ? Math.max(0, now.getTime() - new Date(d).getTime()) : 0);
  const reference = pulse.passStartedAt ?? pulse.lastPassEndedAt ?? pulse.startedAt;
  // The next pass is due one poll after the last one ended (a pass running now holds the next one back).
  const janitorsLateMs = reference ? Math.max(0, since(reference) - pulse.pollMs) : 0;
  return {
    at: now,
    worker: {
      running: pulse.startedAt !== null,
      pollMs: pulse.pollMs,
      janitorsLateMs,
      lastPassEndedAt: pulse.lastPassEndedAt,
      lastPassMs: pulse.lastPassMs,
      passes: pulse.passes,
    },
    deliveries: {
      due: deliveries.due,
      oldestDueMs: since(deliveries.oldest_due_at),
      retrying: deliveries.retrying,
      failed: deliveries.failed,
      failedLastDay: deliveries.failed_last_day,
    },
    inbox: { waiting: inbox.waiting, oldestMs: since(inbox.oldest_at) },
    refusedLastHour: refused.map((r) => ({ provider: r.provider, reason: r.reason, count: r.count, lastAt: r.last_at })),
    database: describeDatabase(db.version, db.size_bytes === null ? null : Number(db.size_bytes)),
    process: { version: HUB_VERSION, uptimeS: Math.floor(process.uptime()), node: process.version, pid: process.pid },
  };
}
