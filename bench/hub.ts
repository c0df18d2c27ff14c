// The hub under test, as the benchmark phases (bench/run.ts) and the soak (bench/soak.ts) set it up: a fresh
// PostgreSQL database per use, the hub in its own process, an operator → merchant → NETOPIA v1 sandbox connection,
// and the request builders and reply checks for payment creation and IPNs.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { BILLING, CFG, fmt, log, ms, onCleanup, RUN_ID, type Store } from './common.js';
import { startServer, type ServerChild } from './child.js';
import type { BenchReply, LoadResult } from './load.js';
import { crcOf, sandboxCredentials } from './netopia.js';
import { memoryOf, type CpuReading } from './proc.js';

export async function jsonCall(base: string, method: string, path: string, key: string, body?: unknown): Promise<any> {
  const r = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path} → HTTP ${r.status}: ${text}`);
  return JSON.parse(text);
}

/** Samples a process's RSS every 100 ms while a phase runs; returns the maximum seen. */
export function rssSampler(pid: number) {
  let max = memoryOf(pid)?.rssMiB ?? NaN;
  const timer = setInterval(() => {
    const m = memoryOf(pid);
    if (m && !(m.rssMiB <= max)) max = m.rssMiB;
  }, 100);
  return () => {
    clearInterval(timer);
    const m = memoryOf(pid);
    if (m && !(m.rssMiB <= max)) max = m.rssMiB;
    return max;
  };
}

export function summarizeLoad(r: LoadResult) {
  return { requests: r.requests, ok: r.ok, errors: r.errors, errorSamples: r.errorSamples, elapsedS: r.elapsedS, rps: r.rps, latency: r.latency };
}
export type LoadSummary = ReturnType<typeof summarizeLoad>;

export function printLoad(label: string, r: LoadResult, cpu?: CpuReading) {
  log(
    `  ${label}: ${fmt(r.ok)} ok / ${fmt(r.errors)} errors in ${r.elapsedS.toFixed(2)} s → ${fmt(r.rps)} req/s; p50 ${ms(r.latency.p50)} ms, p95 ${ms(r.latency.p95)} ms, p99 ${ms(r.latency.p99)} ms, max ${ms(r.latency.max)} ms`,
  );
  if (cpu)
    log(
      `    cpu (cores): server ${cpu.target?.toFixed(2) ?? 'n/a'} (main thread ${cpu.targetMain?.toFixed(2) ?? 'n/a'}), postgres backends ${cpu.helpers?.toFixed(2) ?? '-'}, load generator ${cpu.loadGenerator.toFixed(2)}, whole machine ${cpu.machine?.toFixed(2) ?? 'n/a'}`,
    );
  log(r.histogram.render());
  for (const e of r.errorSamples) log(`    error sample: ${e}`);
}

// ---------------------------------------------------------------------------------------------- PostgreSQL

/** Cost of one statement round trip to PostgreSQL on this machine: wall time and the client's CPU time. */
async function measureRoundTrip(url: string): Promise<{ wallUs: number; clientCpuUs: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let i = 0; i < 200; i++) await client.query('SELECT 1');
    const n = 2000;
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < n; i++) await client.query('SELECT 1');
    const wallUs = ((performance.now() - t) * 1000) / n;
    const c = process.cpuUsage(cpu0);
    return { wallUs, clientCpuUs: (c.user + c.system) / n };
  } finally {
    await client.end();
  }
}

export let pgRoundTrip: { wallUs: number; clientCpuUs: number } | undefined;

/**
 * Runs `fn` on a fresh database `incasso_bench_<run id><suffix>`, dropped afterwards (also on failure or
 * Ctrl-C). `backendPids` lists the PostgreSQL backends serving it, for CPU accounting.
 */
export async function withPostgresDatabase<T>(
  fn: (url: string, backendPids: () => Promise<number[]>, version: string) => Promise<T>,
  options: { suffix?: string; roundTrip?: boolean } = {},
): Promise<T> {
  const name = `incasso_bench_${RUN_ID}${options.suffix ?? ''}`;
  const admin = new pg.Client({ connectionString: CFG.pgUrl });
  await admin.connect();
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    log(`  dropped database ${name}`);
  };
  onCleanup(`drop database ${name}`, drop);
  await admin.query(`CREATE DATABASE ${name}`);
  const version = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  log(`  created database ${name} (PostgreSQL ${version})`);
  const url = new URL(CFG.pgUrl);
  url.pathname = '/' + name;
  if (options.roundTrip !== false) {
    pgRoundTrip = await measureRoundTrip(url.toString());
    log(`  one PostgreSQL round trip (SELECT 1, sequential): ${fmt(pgRoundTrip.wallUs)} µs wall, ${fmt(pgRoundTrip.clientCpuUs)} µs client CPU`);
  }
  const backendPids = async () => (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [name])).rows.map((r) => r.pid);
  try {
    return await fn(url.toString(), backendPids, version);
  } finally {
    await drop();
  }
}

// ---------------------------------------------------------------------------------------------- the hub

export interface BenchHub {
  hub: ServerChild;
  apiKey: string;
  /** Path of the NETOPIA v1 connection's IPN endpoint. */
  notifyPath: string;
}

/** Starts the hub (bench/hub-process.ts) on a store and sets up a merchant with a NETOPIA v1 sandbox connection. */
export async function startBenchHub(store: Store, storeEnv: Record<string, string>): Promise<BenchHub> {
  const adminKey = `adm_${randomBytes(24).toString('base64url')}`;
  const hub = await startServer(
    './hub-process.ts',
    {
      ...storeEnv,
      BENCH_HUB_ADMIN_KEY: adminKey,
      BENCH_HUB_MASTER_KEY: randomBytes(32).toString('hex'),
      BENCH_HUB_POOL_SIZE: String(CFG.poolSize),
      BENCH_HUB_LOG_LEVEL: CFG.logLevel,
    },
    `hub:${store}`,
    CFG.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${CFG.cpuProfDir}`] : [],
  );
  onCleanup(`hub on ${store}`, () => hub.stop());
  try {
    // Operator → merchant → NETOPIA v1 sandbox connection, as in test/http/netopia-v1-ipn.test.ts.
    const merchant = await jsonCall(hub.url, 'POST', '/v1/merchants', adminKey, { name: 'Cafeneaua Veche SRL' });
    const apiKey: string = merchant.api_key;
    const connection = await jsonCall(hub.url, 'POST', '/v1/connections', apiKey, {
      code: 'netopia',
      provider: 'netopia-v1',
      environment: 'sandbox',
      credentials: sandboxCredentials(),
    });
    return { hub, apiKey, notifyPath: new URL(connection.notification_url as string).pathname };
  } catch (e) {
    await hub.stop();
    throw e;
  }
}

/** `POST /v1/payments` number i, with its own order id and Idempotency-Key. */
export const createRequest = (apiKey: string, prefix: string) => (i: number) => ({
  method: 'POST',
  path: '/v1/payments',
  headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': `${RUN_ID}-${prefix}-${i}` },
  body: JSON.stringify({
    connection: 'netopia',
    order_id: `${prefix}-${i}`,
    amount: 1000 + (i % 9000),
    currency: 'RON',
    description: 'Cafea boabe 1kg',
    billing: BILLING,
  }),
});

/** A created (not replayed) pending payment with one attempt, or why not. */
export function createCheck(r: Pick<BenchReply, 'status' | 'headers' | 'body'>): true | string {
  if (r.status !== 201) return `HTTP ${r.status}: ${r.body}`;
  if (r.headers['idempotent-replayed']) return 'replayed instead of created';
  const p = JSON.parse(r.body.toString());
  return typeof p.id === 'string' && p.id.startsWith('pay_') && p.status === 'pending' && p.attempts?.length === 1 ? true : `unexpected body ${r.body}`;
}

/** HTTP 200 `<crc>` with no error_type, echoing the IPN's crc, or why not. */
export function ipnReplyCheck(r: Pick<BenchReply, 'status' | 'body'>, expectedCrc: string): true | string {
  const crc = crcOf(r.body.toString());
  if (r.status !== 200 || !crc) return `HTTP ${r.status}: ${r.body}`;
  if (crc.errorType !== 0) return `crc error_type ${crc.errorType} code ${crc.errorCode}: ${crc.message}`;
  return crc.message === expectedCrc ? true : `crc ${crc.message} does not echo ${expectedCrc}`;
}
