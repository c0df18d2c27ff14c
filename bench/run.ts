// `npm run bench`: measures the hub against baselines taken in the same run, on the same (shared, noisy)
// machine, and reports RATIOS. See bench/README.md for the knobs and bench/RESULTS.md for the last results.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { constants, privateDecrypt, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { netopiaV1 } from '../src/connectors/netopia-v1/connector.js';
import { loadPrivateKey, openEnvelope } from '../src/connectors/netopia-v1/envelope.js';
import { killAllChildren, startServer, type ServerChild } from './child.js';
import { runLoad, type LatencySummary, type LoadResult } from './load.js';
import { confirmedIpnBody, crcOf, openRequest, sandboxCredentials, VANILO_CERT, VANILO_KEY } from './netopia.js';
import { CpuMeter, cpuModel, memoryOf, type CpuReading } from './proc.js';
import { measureRsa, type RsaBaseline } from './rsa.js';

// ---------------------------------------------------------------------------------------------- configuration

const env = process.env;
const num = (name: string, fallback: number) => {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
  return n;
};
const STORES = (env.BENCH_STORES ?? 'pglite,postgres').split(',').map((s) => s.trim()).filter(Boolean) as Array<'pglite' | 'postgres'>;
for (const s of STORES) if (s !== 'pglite' && s !== 'postgres') throw new Error(`BENCH_STORES: unknown store ${s}`);
const CFG = {
  stores: STORES,
  ipnCount: Math.floor(num('BENCH_IPN_COUNT', 2000)),
  ipnWarmup: Math.floor(num('BENCH_IPN_WARMUP', 100)),
  ipnConcurrency: Math.floor(num('BENCH_IPN_CONCURRENCY', 32)),
  durationS: num('BENCH_DURATION_S', 5),
  concurrency: Math.floor(num('BENCH_CONCURRENCY', 64)),
  rsaDurationS: num('BENCH_RSA_DURATION_S', 3),
  poolSize: Math.floor(num('BENCH_DB_POOL_SIZE', 10)),
  pgUrl: env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  resultsFile: env.BENCH_RESULTS_FILE ?? fileURLToPath(new URL('./RESULTS.md', import.meta.url)),
};
const RUN_ID = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const BILLING = { first_name: 'Ștefan', last_name: 'Țăran', email: 'stefan@example.ro', phone: '+40712345678', city: 'Cluj-Napoca', country: 'RO' };

// ---------------------------------------------------------------------------------------------- cleanup

const cleanups: Array<{ what: string; run: () => Promise<void> | void }> = [];
let cleaning: Promise<void> | undefined;
function onCleanup(what: string, run: () => Promise<void> | void) {
  cleanups.push({ what, run });
}
function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const c = cleanups.pop()!;
      try {
        await c.run();
      } catch (e) {
        console.error(`cleanup (${c.what}) failed: ${(e as Error).message}`);
      }
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: cleaning up…`);
    void cleanupAll().finally(() => process.exit(130));
  });
}
process.on('exit', killAllChildren);

// ---------------------------------------------------------------------------------------------- helpers

const log = (line: string) => console.error(line);
const fmt = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const ms = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? 'n/a' : n < 10 ? n.toFixed(2) : n.toFixed(1));
const pct = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? 'n/a' : `${(n * 100).toFixed(1)}%`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function jsonCall(base: string, method: string, path: string, key: string, body?: unknown): Promise<any> {
  const r = await fetch(base + path, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path} → HTTP ${r.status}: ${text}`);
  return JSON.parse(text);
}

/** Samples a process's RSS every 100 ms while a phase runs; returns the maximum seen. */
function rssSampler(pid: number) {
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

function summarizeLoad(r: LoadResult) {
  return { requests: r.requests, ok: r.ok, errors: r.errors, errorSamples: r.errorSamples, elapsedS: r.elapsedS, rps: r.rps, latency: r.latency };
}
type LoadSummary = ReturnType<typeof summarizeLoad>;

function printLoad(label: string, r: LoadResult, cpu?: CpuReading) {
  log(`  ${label}: ${fmt(r.ok)} ok / ${fmt(r.errors)} errors in ${r.elapsedS.toFixed(2)} s → ${fmt(r.rps)} req/s; p50 ${ms(r.latency.p50)} ms, p95 ${ms(r.latency.p95)} ms, p99 ${ms(r.latency.p99)} ms, max ${ms(r.latency.max)} ms`);
  if (cpu) log(`    cpu (cores): server ${cpu.target?.toFixed(2) ?? 'n/a'} (main thread ${cpu.targetMain?.toFixed(2) ?? 'n/a'}), postgres backends ${cpu.helpers?.toFixed(2) ?? '-'}, load generator ${cpu.loadGenerator.toFixed(2)}, whole machine ${cpu.machine?.toFixed(2) ?? 'n/a'}`);
  log(r.histogram.render());
  for (const e of r.errorSamples) log(`    error sample: ${e}`);
}

// ---------------------------------------------------------------------------------------------- baselines

type RsaResult = RsaBaseline & { othersCores?: number };

async function rsaBaseline(label: string): Promise<RsaResult> {
  log(`\n[baseline A${label}] raw RSA-2048 private operation (RSA_NO_PADDING), ${CFG.rsaDurationS} s on 1 thread, then ${CFG.rsaDurationS} s on ${availableParallelism()} threads`);
  const meter = new CpuMeter(undefined);
  const r = await measureRsa(VANILO_KEY, VANILO_CERT, CFG.rsaDurationS);
  const c = meter.stop();
  const othersCores = c.machine === undefined ? undefined : Math.max(0, c.machine - c.loadGenerator);
  log(`  1 thread: ${fmt(r.oneThreadOpsPerS)} ops/s; all cores: ${fmt(r.allCoresOpsPerS)} ops/s (${r.perThreadOpsPerS.map((x) => fmt(x)).join(' + ')}); other processes used ${othersCores?.toFixed(2) ?? 'n/a'} cores meanwhile`);
  return { ...r, othersCores };
}

interface EchoResult {
  load: LoadSummary;
  cpu: CpuReading;
}

async function echoBaseline(label: string): Promise<EchoResult> {
  log(`\n[baseline B${label}] bare Fastify POST /echo, ${CFG.concurrency} clients, ${CFG.durationS} s`);
  const server = await startServer('./echo-process.ts', {}, 'echo');
  onCleanup('echo server', () => server.stop());
  try {
    const body = JSON.stringify({ n: 1, hello: 'world' });
    const request = (i: number) => ({ method: 'POST', path: '/echo', headers: { 'content-type': 'application/json' }, body: body.replace('1', String(i % 10)) });
    const check = (r: { status: number; body: Buffer }) => (r.status === 200 && r.body.toString().startsWith('{"ok":true') ? true : `HTTP ${r.status}: ${r.body}`);
    await runLoad({ url: server.url, concurrency: CFG.concurrency, durationMs: 1000, request, check });
    const meter = new CpuMeter(server.pid);
    const load = await runLoad({ url: server.url, concurrency: CFG.concurrency, durationMs: CFG.durationS * 1000, request, check });
    const cpu = meter.stop();
    printLoad('echo', load, cpu);
    return { load: summarizeLoad(load), cpu };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------- the hub on one store

interface StoreResult {
  store: 'pglite' | 'postgres';
  creation: { load: LoadSummary; cpu: CpuReading; queriesPerRequest: number; created: number; verified: boolean; verification: string };
  precreate: { load: LoadSummary };
  ipn: { load: LoadSummary; cpu: CpuReading; queriesPerRequest: number; paid: number; applied: number; expected: number; verified: boolean; verification: string };
  rss: { idleStartMiB: number; maxDuringCreationMiB: number; maxDuringIpnMiB: number; idleEndMiB: number; peakMiB: number };
  prepS: { precreate: number; openRequests: number; buildIpns: number };
  postgresVersion?: string;
}

let pgRoundTrip: { wallUs: number; clientCpuUs: number } | undefined;

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

async function withPostgresDatabase<T>(fn: (url: string, backendPids: () => Promise<number[]>, version: string) => Promise<T>): Promise<T> {
  const name = `incasso_bench_${RUN_ID}`;
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
  pgRoundTrip = await measureRoundTrip(url.toString());
  log(`  one PostgreSQL round trip (SELECT 1, sequential): ${fmt(pgRoundTrip.wallUs)} µs wall, ${fmt(pgRoundTrip.clientCpuUs)} µs client CPU`);
  const backendPids = async () => (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [name])).rows.map((r) => r.pid);
  try {
    return await fn(url.toString(), backendPids, version);
  } finally {
    await drop();
  }
}

async function benchStore(store: 'pglite' | 'postgres'): Promise<StoreResult> {
  log(`\n[hub on ${store}]`);
  if (store === 'postgres') return withPostgresDatabase((url, pids, version) => benchHub(store, { BENCH_HUB_DATABASE_URL: url }, pids, version));
  const dir = mkdtempSync(join(tmpdir(), 'incasso-bench-pglite-'));
  const remove = () => {
    rmSync(dir, { recursive: true, force: true });
  };
  onCleanup(`remove ${dir}`, remove);
  log(`  PGlite data directory ${dir}`);
  try {
    return await benchHub(store, { BENCH_HUB_DATA_DIR: dir }, async () => []);
  } finally {
    remove();
  }
}

async function benchHub(store: 'pglite' | 'postgres', storeEnv: Record<string, string>, backendPids: () => Promise<number[]>, postgresVersion?: string): Promise<StoreResult> {
  const adminKey = `adm_${randomBytes(24).toString('base64url')}`;
  const hub: ServerChild = await startServer('./hub-process.ts', {
    ...storeEnv,
    BENCH_HUB_ADMIN_KEY: adminKey,
    BENCH_HUB_MASTER_KEY: randomBytes(32).toString('hex'),
    BENCH_HUB_POOL_SIZE: String(CFG.poolSize),
    BENCH_HUB_LOG_LEVEL: env.BENCH_LOG_LEVEL ?? 'warn',
  }, `hub:${store}`, env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF_DIR}`] : []);
  onCleanup(`hub on ${store}`, () => hub.stop());
  try {
    const count = async (text: string) => Number((await hub.query<{ n: number }>(text))[0]!.n);

    // Operator → merchant → NETOPIA v1 sandbox connection, as in test/http/netopia-v1-ipn.test.ts.
    const merchant = await jsonCall(hub.url, 'POST', '/v1/merchants', adminKey, { name: 'Cafeneaua Veche SRL' });
    const apiKey: string = merchant.api_key;
    const connection = await jsonCall(hub.url, 'POST', '/v1/connections', apiKey, { code: 'netopia', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
    const notifyPath = new URL(connection.notification_url as string).pathname;

    // ---- payment creation, duration-bound
    const createRequest = (prefix: string) => (i: number) => ({
      method: 'POST',
      path: '/v1/payments',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': `${RUN_ID}-${prefix}-${i}` },
      body: JSON.stringify({ connection: 'netopia', order_id: `${prefix}-${i}`, amount: 1000 + (i % 9000), currency: 'RON', description: 'Cafea boabe 1kg', billing: BILLING }),
    });
    const createCheck = (r: { status: number; headers: Record<string, unknown>; body: Buffer }) => {
      if (r.status !== 201) return `HTTP ${r.status}: ${r.body}`;
      if (r.headers['idempotent-replayed']) return 'replayed instead of created';
      const p = JSON.parse(r.body.toString());
      return typeof p.id === 'string' && p.id.startsWith('pay_') && p.status === 'pending' && p.attempts?.length === 1 ? true : `unexpected body ${r.body}`;
    };
    const idleStartMiB = memoryOf(hub.pid)?.rssMiB ?? NaN;
    log(`  hub pid ${hub.pid}, RSS ${fmt(idleStartMiB, 1)} MiB after start; warming up (300 payments)`);
    const warm = await runLoad({ url: hub.url, concurrency: CFG.concurrency, count: 300, request: createRequest('PW'), check: createCheck });
    let pids = await backendPids();
    let sampler = rssSampler(hub.pid);
    let meter = new CpuMeter(hub.pid, pids);
    let q0 = await hub.queryCount();
    const creation = await runLoad({ url: hub.url, concurrency: CFG.concurrency, durationMs: CFG.durationS * 1000, request: createRequest('PC'), check: createCheck });
    const creationCpu = meter.stop(await backendPids());
    const creationQueries = ((await hub.queryCount()) - q0) / creation.requests;
    const maxDuringCreationMiB = sampler();
    printLoad(`POST /v1/payments (${CFG.concurrency} clients, ${CFG.durationS} s)`, creation, creationCpu);
    log(`    ${creationQueries.toFixed(1)} database statements per request (background worker included)`);
    const created = await count(`SELECT count(*)::int AS n FROM payments WHERE order_id LIKE 'PC-%'`);
    const keys = await count(`SELECT count(*)::int AS n FROM idempotency_keys WHERE key LIKE '${RUN_ID}-PC-%' AND response_status = 201`);
    const createdAttempts = await count(`SELECT count(*)::int AS n FROM payment_attempts a JOIN payments p ON p.id = a.payment_id WHERE p.order_id LIKE 'PC-%' AND a.redirect IS NOT NULL`);
    const creationVerified = creation.errors === 0 && warm.errors === 0 && created === creation.ok && keys === creation.ok && createdAttempts === creation.ok;
    const creationVerification = `${created} payments, ${createdAttempts} sealed attempts and ${keys} idempotency keys in the database for ${creation.ok} successful replies (${creation.errors} errors)`;
    log(`  verification: ${creationVerification} → ${creationVerified ? 'OK' : 'FAILED'}`);

    // ---- IPN: pre-create one payment per IPN, open each sealed request, seal one distinct confirmed IPN per payment
    const total = CFG.ipnWarmup + CFG.ipnCount;
    log(`  creating ${fmt(total)} payments for the IPN run (${CFG.ipnWarmup} warm-up + ${CFG.ipnCount} measured)`);
    let t0 = performance.now();
    const attemptOf: string[] = new Array(total);
    const precreate = await runLoad({
      url: hub.url,
      concurrency: CFG.ipnConcurrency,
      count: total,
      request: createRequest('IPN'),
      check: (r, i) => {
        const v = createCheck(r);
        if (v === true) attemptOf[i] = JSON.parse(r.body.toString()).attempts[0].id;
        return v;
      },
    });
    const precreateS = (performance.now() - t0) / 1000;
    if (precreate.errors) throw new Error(`could not create the payments for the IPN run: ${precreate.errorSamples.join('; ')}`);
    log(`    ${fmt(precreate.rps)} payments/s at ${CFG.ipnConcurrency} clients`);

    t0 = performance.now();
    const rows = await hub.query<{ id: string; redirect: unknown }>(`SELECT a.id, a.redirect FROM payment_attempts a JOIN payments p ON p.id = a.payment_id WHERE p.order_id LIKE 'IPN-%'`);
    const redirectOf = new Map(rows.map((r) => [r.id, (typeof r.redirect === 'string' ? JSON.parse(r.redirect) : r.redirect) as { fields: Record<string, string> }]));
    const orders = attemptOf.map((attemptId) => {
      const redirect = redirectOf.get(attemptId);
      if (!redirect) throw new Error(`no stored redirect for attempt ${attemptId}`);
      return openRequest(redirect.fields);
    });
    const openS = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const crcs = orders.map((_, i) => `bench-${store}-${RUN_ID}-${i}`);
    const bodies = orders.map((xml, i) => {
      const amount = /<invoice currency="RON" amount="([0-9.]+)">/.exec(xml)?.[1];
      if (!amount) throw new Error('order XML without an invoice amount');
      return confirmedIpnBody(xml, amount, crcs[i]!, String(10_000_000 + i));
    });
    const buildS = (performance.now() - t0) / 1000;
    log(`    opened ${fmt(orders.length)} sealed requests in ${openS.toFixed(2)} s, sealed ${fmt(bodies.length)} IPNs in ${buildS.toFixed(2)} s`);
    ipnBodiesForMicro ??= bodies.slice(0, 300);

    const ipnRequest = (offset: number) => (i: number) => ({ method: 'POST', path: notifyPath, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: bodies[offset + i]! });
    const ipnCheck = (offset: number) => (r: { status: number; body: Buffer }, i: number) => {
      const crc = crcOf(r.body.toString());
      if (r.status !== 200 || !crc) return `HTTP ${r.status}: ${r.body}`;
      if (crc.errorType !== 0) return `crc error_type ${crc.errorType} code ${crc.errorCode}: ${crc.message}`;
      return crc.message === crcs[offset + i] ? true : `crc ${crc.message} does not echo ${crcs[offset + i]}`;
    };
    const warmIpn = await runLoad({ url: hub.url, concurrency: CFG.ipnConcurrency, count: CFG.ipnWarmup, request: ipnRequest(0), check: ipnCheck(0) });
    pids = await backendPids();
    sampler = rssSampler(hub.pid);
    meter = new CpuMeter(hub.pid, pids);
    q0 = await hub.queryCount();
    const ipn = await runLoad({ url: hub.url, concurrency: CFG.ipnConcurrency, count: CFG.ipnCount, request: ipnRequest(CFG.ipnWarmup), check: ipnCheck(CFG.ipnWarmup) });
    const ipnCpu = meter.stop(await backendPids());
    const ipnQueries = ((await hub.queryCount()) - q0) / ipn.requests;
    const maxDuringIpnMiB = sampler();
    printLoad(`IPN confirmed (${CFG.ipnConcurrency} clients, ${fmt(CFG.ipnCount)} distinct IPNs)`, ipn, ipnCpu);
    log(`    ${ipnQueries.toFixed(1)} database statements per request (background worker included)`);
    const paid = await count(`SELECT count(*)::int AS n FROM payments WHERE order_id LIKE 'IPN-%' AND status = 'paid' AND amount_captured = amount`);
    const applied = await count(`SELECT count(*)::int AS n FROM notifications WHERE status = 'applied'`);
    const ipnVerified = warmIpn.errors === 0 && ipn.errors === 0 && paid === total && applied === total;
    const ipnVerification = `${paid} of ${total} payments paid (full amount captured), ${applied} notifications applied; ${warmIpn.errors + ipn.errors} bad replies`;
    log(`  verification: ${ipnVerification} → ${ipnVerified ? 'OK' : 'FAILED'}`);

    const mem = memoryOf(hub.pid);
    return {
      store,
      creation: { load: summarizeLoad(creation), cpu: creationCpu, queriesPerRequest: creationQueries, created, verified: creationVerified, verification: creationVerification },
      precreate: { load: summarizeLoad(precreate) },
      ipn: { load: summarizeLoad(ipn), cpu: ipnCpu, queriesPerRequest: ipnQueries, paid, applied, expected: total, verified: ipnVerified, verification: ipnVerification },
      rss: { idleStartMiB, maxDuringCreationMiB, maxDuringIpnMiB, idleEndMiB: mem?.rssMiB ?? NaN, peakMiB: mem?.peakMiB ?? NaN },
      prepS: { precreate: precreateS, openRequests: openS, buildIpns: buildS },
      postgresVersion,
    };
  } finally {
    await hub.stop();
  }
}

// ---------------------------------------------------------------------------------------------- where the time goes (in-process micro costs)

let ipnBodiesForMicro: string[] | undefined;

interface MicroCosts {
  rawRsaUs: number;
  openEnvelopeUs: number;
  verifyNotificationUs: number;
  createRedirectUs: number;
  pgRoundTripWallUs?: number;
  pgRoundTripClientCpuUs?: number;
}

function microCosts(): MicroCosts | undefined {
  if (!ipnBodiesForMicro?.length) return undefined;
  const credentials = netopiaV1.parseCredentials(sandboxCredentials());
  const config = { credentials, settings: netopiaV1.parseSettings({}), environment: 'sandbox' as const, endpoint: netopiaV1.defaultEndpoint('sandbox', 'http://127.0.0.1') };
  const key = loadPrivateKey(VANILO_KEY);
  const bodies = ipnBodiesForMicro.map((b) => Buffer.from(b));
  const forms = ipnBodiesForMicro.map((b) => Object.fromEntries(new URLSearchParams(b)));
  const time = (n: number, fn: (i: number) => void) => {
    for (let i = 0; i < Math.min(n, 50); i++) fn(i);
    const t = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    return ((performance.now() - t) * 1000) / n;
  };
  const ciphertext = Buffer.from(forms[0]!.env_key!, 'base64');
  const rawRsaUs = time(300, () => privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ciphertext));
  const openEnvelopeUs = time(bodies.length, (i) => openEnvelope(forms[i]!, key));
  const verifyNotificationUs = time(bodies.length, (i) => {
    const v = netopiaV1.verifyNotification(config, { body: bodies[i]!, contentType: 'application/x-www-form-urlencoded', headers: {} });
    if (!v.ok) throw new Error(`micro: IPN did not verify: ${v.reason}`);
  });
  const createRedirectUs = time(1000, (i) =>
    netopiaV1.createRedirect(config, {
      reference: `att_${String(i).padStart(26, '0')}`,
      amount: 1000 + i,
      currency: 'RON',
      description: 'Cafea boabe 1kg',
      billing: BILLING,
      metadata: {},
      urls: { notify: 'http://127.0.0.1/notify/netopia-v1/con_x', return: 'http://127.0.0.1/pay/pay_x/return' },
      now: new Date(),
    }),
  );
  return { rawRsaUs, openEnvelopeUs, verifyNotificationUs, createRedirectUs };
}

// ---------------------------------------------------------------------------------------------- report

interface Report {
  startedAt: Date;
  elapsedS: number;
  machine: { cores: number; logicalCpus: number; cpu: string; node: string; memGiB: number; loadavgStart: number[]; pglite: string };
  rsa: RsaResult[];
  echo: EchoResult[];
  stores: StoreResult[];
  micro?: MicroCosts;
  failures: string[];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function spread(xs: number[]): string {
  if (xs.length < 2) return '';
  const m = mean(xs);
  return ` (±${((Math.max(...xs) - Math.min(...xs)) / 2 / m * 100).toFixed(0)}% between before/after)`;
}

function render(r: Report): { console: string; markdown: string } {
  const rsaAll = r.rsa.length ? mean(r.rsa.map((x) => x.allCoresOpsPerS)) : NaN;
  const rsaOne = r.rsa.length ? mean(r.rsa.map((x) => x.oneThreadOpsPerS)) : NaN;
  const echoRps = r.echo.length ? mean(r.echo.map((x) => x.load.rps)) : NaN;
  const echoP99 = r.echo.length ? mean(r.echo.map((x) => x.load.latency.p99)) : NaN;
  const ok = (b: boolean) => (b ? 'yes' : '**NO**');
  // The ratio against the mean baseline, with the range it spans against each single baseline measurement.
  const ratio = (value: number, baselines: number[]) => {
    const each = baselines.map((b) => value / b);
    return each.length > 1 ? `${pct(value / mean(baselines))} (${pct(Math.min(...each))}–${pct(Math.max(...each))})` : pct(value / mean(baselines));
  };

  const baselines = table(
    ['baseline', ...r.rsa.map((_, i) => (i === 0 ? 'before' : 'after')), 'used (mean)'],
    [
      ['A: RSA-2048 private op, 1 thread (ops/s)', ...r.rsa.map((x) => fmt(x.oneThreadOpsPerS)), fmt(rsaOne) + spread(r.rsa.map((x) => x.oneThreadOpsPerS))],
      [`A: RSA-2048 private op, ${r.rsa[0]?.threads ?? '?'} threads (ops/s)`, ...r.rsa.map((x) => fmt(x.allCoresOpsPerS)), fmt(rsaAll) + spread(r.rsa.map((x) => x.allCoresOpsPerS))],
      ['A: cores used by other processes meanwhile', ...r.rsa.map((x) => x.othersCores?.toFixed(2) ?? 'n/a'), ''],
      [`B: bare Fastify POST /echo, ${CFG.concurrency} clients (req/s)`, ...r.echo.map((x) => fmt(x.load.rps)), fmt(echoRps) + spread(r.echo.map((x) => x.load.rps))],
      ['B: bare Fastify p50 / p99 (ms)', ...r.echo.map((x) => `${ms(x.load.latency.p50)} / ${ms(x.load.latency.p99)}`), `${ms(r.echo.length ? mean(r.echo.map((x) => x.load.latency.p50)) : NaN)} / ${ms(echoP99)}`],
    ],
  );

  const main = table(
    ['measurement', 'store', 'throughput', 'p50 ms', 'p95 ms', 'p99 ms', 'ratio', 'target', 'results verified'],
    r.stores.flatMap((s) => [
      [
        `IPN confirmed, ${CFG.ipnConcurrency} clients`,
        s.store,
        `${fmt(s.ipn.load.rps)} IPN/s`,
        ms(s.ipn.load.latency.p50),
        ms(s.ipn.load.latency.p95),
        ms(s.ipn.load.latency.p99),
        `${ratio(s.ipn.load.rps, r.rsa.map((x) => x.allCoresOpsPerS))} of RSA all-cores`,
        s.store === 'postgres' ? '≥ 50%' : '≥ 35%',
        ok(s.ipn.verified),
      ],
      [
        `POST /v1/payments, ${CFG.concurrency} clients`,
        s.store,
        `${fmt(s.creation.load.rps)} payments/s`,
        ms(s.creation.load.latency.p50),
        ms(s.creation.load.latency.p95),
        ms(s.creation.load.latency.p99),
        `${ratio(s.creation.load.rps, r.echo.map((x) => x.load.rps))} of bare Fastify`,
        '≥ 30%, p99 < 25 ms',
        ok(s.creation.verified),
      ],
    ]),
  );

  // CPU-normalized ratios: the same comparisons made with CPU time per request instead of requests per second,
  // which other processes on the machine disturb much less (they take cores away, they barely change the CPU a
  // request needs). Server + PostgreSQL backend CPU per request; the load generator is left out on both sides.
  const echoCpuPerReq = r.echo.length ? mean(r.echo.map((e) => (e.cpu.target ?? NaN) / e.load.rps)) : NaN;
  const rsaCpuPerOp = 1 / rsaOne;
  const cpuPerReq = (c: CpuReading, rps: number) => ((c.target ?? NaN) + (c.helpers ?? 0)) / rps;
  const extra = table(
    ['store', 'IPN/s ÷ RSA 1-thread', 'CPU-normalized IPN ratio', 'CPU-normalized creation ratio', 'payments/s at ' + CFG.ipnConcurrency + ' clients (IPN setup)', 'creation p99 ÷ Fastify p99'],
    r.stores.map((s) => [
      s.store,
      pct(s.ipn.load.rps / rsaOne),
      pct(rsaCpuPerOp / cpuPerReq(s.ipn.cpu, s.ipn.load.rps)),
      pct(echoCpuPerReq / cpuPerReq(s.creation.cpu, s.creation.load.rps)),
      fmt(s.precreate.load.rps),
      `${(s.creation.load.latency.p99 / echoP99).toFixed(1)}×`,
    ]),
  );

  const others = (c: CpuReading) => (c.machine === undefined ? 'n/a' : Math.max(0, c.machine - (c.target ?? 0) - (c.helpers ?? 0) - c.loadGenerator).toFixed(2));
  const cpuRow = (label: string, store: string, c: CpuReading, rps: number, queries?: number) => [
    label,
    store,
    c.target?.toFixed(2) ?? 'n/a',
    c.targetMain?.toFixed(2) ?? 'n/a',
    c.helpers?.toFixed(2) ?? '-',
    c.loadGenerator.toFixed(2),
    c.machine?.toFixed(2) ?? 'n/a',
    others(c),
    c.target !== undefined ? ms((c.target / rps) * 1000) : 'n/a',
    c.helpers !== undefined ? ms((c.helpers / rps) * 1000) : '-',
    queries === undefined ? '-' : queries.toFixed(1),
  ];
  const cpu = table(
    ['phase', 'store', 'server process', 'its main thread', 'PG backends', 'load generator', 'machine', 'other processes', 'server CPU ms/req', 'PG CPU ms/req', 'DB statements/req'],
    [
      ...r.echo.map((e, i) => cpuRow(`bare Fastify (${i === 0 ? 'before' : 'after'})`, '-', e.cpu, e.load.rps)),
      ...r.stores.flatMap((s) => [cpuRow('POST /v1/payments', s.store, s.creation.cpu, s.creation.load.rps, s.creation.queriesPerRequest), cpuRow('IPN', s.store, s.ipn.cpu, s.ipn.load.rps, s.ipn.queriesPerRequest)]),
    ],
  );

  const rss = table(
    ['store', 'idle after start', 'max during creation', 'max during IPN', 'idle after load', 'peak (VmHWM)'],
    r.stores.map((s) => [s.store, ...[s.rss.idleStartMiB, s.rss.maxDuringCreationMiB, s.rss.maxDuringIpnMiB, s.rss.idleEndMiB, s.rss.peakMiB].map((x) => `${fmt(x, 1)} MiB`)]),
  );

  const micro = r.micro
    ? table(
        ['operation (in-process, one thread, no I/O)', 'µs/op'],
        [
          ['raw RSA-2048 private op (RSA_NO_PADDING)', fmt(r.micro.rawRsaUs)],
          ['openEnvelope (RSA + PKCS#1 implicit-rejection check + AES-256-CBC)', fmt(r.micro.openEnvelopeUs)],
          ['connector.verifyNotification (form parse + openEnvelope + IPN XML parse + checks)', fmt(r.micro.verifyNotificationUs)],
          ['connector.createRedirect (order XML + seal to the NETOPIA certificate)', fmt(r.micro.createRedirectUs)],
          ...(r.micro.pgRoundTripWallUs !== undefined
            ? [
                ['one PostgreSQL statement round trip (SELECT 1, pg client, sequential): wall', fmt(r.micro.pgRoundTripWallUs)],
                ['  of which client CPU (mostly the socket write/read syscalls)', fmt(r.micro.pgRoundTripClientCpuUs)],
              ]
            : []),
        ],
      )
    : '(not measured)';

  const notes: string[] = [];
  r.rsa.forEach((x, i) => {
    const scaling = x.allCoresOpsPerS / x.oneThreadOpsPerS;
    if (scaling < 0.75 * x.threads) {
      notes.push(`Baseline A ${i === 0 ? 'before' : 'after'}: RSA on ${x.threads} threads was only ${scaling.toFixed(2)}× one thread (other processes used ${x.othersCores?.toFixed(2) ?? 'n/a'} cores meanwhile): the machine did not give the benchmark all its cores then, which flatters the IPN ratio against it.`);
    }
  });
  const busiest = Math.max(0, ...r.stores.flatMap((s) => [s.creation.cpu, s.ipn.cpu]).map((c) => (c.machine ?? 0) - (c.target ?? 0) - (c.helpers ?? 0) - c.loadGenerator));
  if (busiest > 0.3) notes.push(`Up to ${busiest.toFixed(2)} cores went to other processes during the hub phases: absolute numbers are depressed, ratios less so.`);
  for (const s of r.stores) {
    for (const [what, c] of [['payment creation', s.creation.cpu], ['IPN', s.ipn.cpu]] as const) {
      if (c.targetMain !== undefined && c.targetMain > 0.9) notes.push(`${s.store} ${what}: the hub's main thread was busy ${pct(c.targetMain)} of the time: the hub is CPU-bound on its event loop.`);
    }
  }
  const verification = r.stores.flatMap((s) => [`- ${s.store}, payment creation: ${s.creation.verification} → ${s.creation.verified ? 'OK' : 'FAILED'}`, `- ${s.store}, IPN: ${s.ipn.verification} → ${s.ipn.verified ? 'OK' : 'FAILED'}`]);
  const errorSamples = r.stores.flatMap((s) => [...s.creation.load.errorSamples.map((e) => `- ${s.store} creation: ${e}`), ...s.ipn.load.errorSamples.map((e) => `- ${s.store} IPN: ${e}`)]);

  const consoleText = [
    '',
    '=== baselines (same run) ===',
    baselines,
    '',
    '=== hub ===',
    main,
    '',
    extra,
    ...(notes.length ? ['', ...notes.map((n) => `note: ${n}`)] : []),
    '',
    '=== CPU during each measured phase (1.00 = one core busy the whole phase) ===',
    cpu,
    '',
    '=== in-process micro costs ===',
    micro,
    '',
    '=== hub process RSS ===',
    rss,
    '',
    '=== verification ===',
    ...verification,
    ...(r.failures.length ? ['', 'FAILURES:', ...r.failures.map((f) => `- ${f}`)] : []),
    '',
  ].join('\n');

  const m = r.machine;
  const md = `# Benchmark results

Written by \`npm run bench\` (bench/run.ts) on ${r.startedAt.toISOString()}; the run took ${r.elapsedS.toFixed(0)} s.
${r.failures.length ? `\n**This run had failures:**\n\n${r.failures.map((f) => `- ${f}`).join('\n')}\n` : ''}
## Machine

- CPU: ${m.cpu}, ${m.cores} cores available to Node (\`os.availableParallelism()\`), ${m.logicalCpus} logical CPUs
- Memory: ${m.memGiB.toFixed(1)} GiB; load average at start: ${m.loadavgStart.map((x) => x.toFixed(2)).join(' ')} (shared, noisy machine: read the ratios, not the absolute numbers)
- Node ${m.node}; PostgreSQL ${r.stores.find((s) => s.postgresVersion)?.postgresVersion ?? 'n/a'} on loopback; PGlite ${m.pglite} with a data directory in ${tmpdir()}
- Settings: IPN ${CFG.ipnCount} measured + ${CFG.ipnWarmup} warm-up at ${CFG.ipnConcurrency} clients; creation and echo ${CFG.durationS} s at ${CFG.concurrency} clients; RSA ${CFG.rsaDurationS} s per thread count; hub DB pool ${CFG.poolSize}; stores ${CFG.stores.join(', ')}

## Baselines (measured in this run, before and after the hub runs)

${baselines}

## Results and ratios

${main}

Ratios use the mean of the before/after baselines; in brackets, the range against each of the two alone. Targets are the issue's goals; today the hub does the RSA
operation on its main thread, so the IPN ratio is bounded by roughly one core's worth of RSA.

${extra}

The CPU-normalized ratios make the same comparisons with CPU time instead of throughput, which the other
processes on a shared machine disturb much less: *RSA CPU per private operation ÷ (hub + PostgreSQL backend CPU
per IPN)*, and *bare Fastify server CPU per request ÷ (hub + PostgreSQL backend CPU per payment)*. With every core
to itself and perfect scaling, the throughput ratios would come out near these.
${notes.length ? `\n### Caveats for this run\n\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''}
## Where the time goes

CPU used during each measured phase, in cores (1.00 = one core busy for the whole phase), read from
\`/proc/<pid>/stat\` (server process total and its main thread alone), the PostgreSQL backends serving the
benchmark database (\`pg_stat_activity\`), this process (the load generator) and \`/proc/stat\` (whole machine, all
${m.logicalCpus} CPUs, so at most ${m.logicalCpus}.00); "other processes" is the rest of the machine (other people's work on
this shared host, PostgreSQL's background processes, the kernel). "DB statements/req" counts every statement
the hub sent to its database during the phase (BEGIN/COMMIT and the background worker's queries included)
divided by the requests served.

${cpu}

In-process cost of the CPU-heavy steps, measured single-threaded in the benchmark process:

${micro}

## Hub process memory (RSS from /proc/<pid>/status)

${rss}

## Verification

${verification.join('\n')}
${errorSamples.length ? `\nError samples:\n\n${errorSamples.join('\n')}\n` : ''}
## What is measured

- **Baseline A**: \`crypto.privateDecrypt({ key, padding: RSA_NO_PADDING }, c)\` with the vanilo RSA-2048 key
  (the exact raw operation the hub's env_key unwrap does), on one worker thread and on one worker thread per
  core at once, ${CFG.rsaDurationS} s each.
- **Baseline B**: a bare Fastify server (own process, \`node --import tsx\`, logger off) with \`POST /echo\`
  returning a small JSON, loaded like the hub: ${CFG.concurrency} keep-alive clients, ${CFG.durationS} s after a 1 s warm-up.
- **IPN**: the hub runs in its own process (bench/hub-process.ts, log level warn, emulators off). An operator
  creates a merchant, the merchant a NETOPIA v1 sandbox connection (vanilo key pair) and ${CFG.ipnWarmup + CFG.ipnCount}
  payments; the benchmark opens each payment's sealed request (\`payment_attempts.redirect.fields\`) to get the
  order XML and seals one distinct \`confirmed\` IPN per payment (own crc and purchase id), so every request is a
  real state change (pending → paid), never a duplicate. ${CFG.ipnWarmup} IPNs warm up, then ${CFG.ipnCount} are fired by
  ${CFG.ipnConcurrency} keep-alive clients. Every reply must be HTTP 200 \`<crc>\` with no error_type echoing that IPN's
  crc; afterwards every payment must be \`paid\` with the full amount captured and every notification \`applied\`.
- **Payment creation**: \`POST /v1/payments\` with the merchant's API key, full JSON validation, a fresh
  \`Idempotency-Key\` per request, the inserts and the sealed NETOPIA request, ${CFG.concurrency} clients for ${CFG.durationS} s
  after 300 warm-up requests. Every reply must be 201 with a pending payment and one attempt; afterwards the
  database must hold exactly one payment, one sealed attempt and one idempotency key per successful reply.
- Load generator (bench/load.ts): closed loop, each client one keep-alive \`http.Agent\` connection, one request at
  a time; latency from sending the request to the end of the reply; exact percentiles over every request. It
  runs in the benchmark process on the same ${m.cores} cores as the server, so its CPU (table above) is taken
  from the server.
- Durable storage: PostgreSQL commits with its own settings on a fresh database; PGlite uses a temporary data
  directory on disk. Both are removed at the end, also on failure or Ctrl-C.

## How to rerun

\`npm run bench\` (about ${Math.max(1, Math.round(r.elapsedS / 60))} min here); knobs such as \`BENCH_STORES=postgres BENCH_IPN_COUNT=1000 BENCH_DURATION_S=5 npm run bench\` are listed in bench/README.md.
`;
  return { console: consoleText, markdown: md };
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<number> {
  const startedAt = new Date();
  const t0 = performance.now();
  const pgliteVersion = (() => {
    try {
      return JSON.parse(readFileSync(fileURLToPath(new URL('../node_modules/@electric-sql/pglite/package.json', import.meta.url)), 'utf8')).version as string;
    } catch {
      return 'unknown';
    }
  })();
  const report: Report = {
    startedAt,
    elapsedS: 0,
    machine: { cores: availableParallelism(), logicalCpus: cpus().length, cpu: cpuModel(), node: process.version, memGiB: totalmem() / 2 ** 30, loadavgStart: loadavg(), pglite: pgliteVersion },
    rsa: [],
    echo: [],
    stores: [],
    failures: [],
  };
  log(`incasso bench ${RUN_ID}: ${report.machine.cores} cores (${report.machine.cpu}), Node ${process.version}, stores ${CFG.stores.join(', ')}`);

  report.rsa.push(await rsaBaseline(' (before)'));
  report.echo.push(await echoBaseline(' (before)'));
  for (const store of CFG.stores) {
    try {
      const s = await benchStore(store);
      report.stores.push(s);
      if (!s.creation.verified) report.failures.push(`${store}: payment creation results did not verify (${s.creation.verification})`);
      if (!s.ipn.verified) report.failures.push(`${store}: IPN results did not verify (${s.ipn.verification})`);
    } catch (e) {
      report.failures.push(`${store}: ${(e as Error).message}`);
      log(`  ${store} FAILED: ${(e as Error).stack}`);
    }
  }
  report.micro = microCosts();
  if (report.micro && pgRoundTrip) Object.assign(report.micro, { pgRoundTripWallUs: pgRoundTrip.wallUs, pgRoundTripClientCpuUs: pgRoundTrip.clientCpuUs });
  report.rsa.push(await rsaBaseline(' (after)'));
  report.echo.push(await echoBaseline(' (after)'));
  report.elapsedS = (performance.now() - t0) / 1000;

  const out = render(report);
  console.log(out.console);
  if (CFG.resultsFile && CFG.resultsFile !== '-') {
    writeFileSync(CFG.resultsFile, out.markdown);
    log(`wrote ${CFG.resultsFile}`);
  }
  return report.failures.length ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(`bench failed: ${(e as Error).stack ?? e}`);
} finally {
  await cleanupAll();
}
process.exit(code);
