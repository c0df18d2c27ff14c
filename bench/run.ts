// `npm run bench`: measures the hub against baselines taken in the same run, on the same (shared, noisy)
// machine, and reports RATIOS; compares our NETOPIA v1 envelope code with a published client (bench/clients.ts);
// optionally soaks the hub (bench/soak.ts). See bench/README.md for the knobs and bench/RESULTS.md for the last
// results. The report itself is written by bench/report.ts.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { killAllChildren, startServer } from './child.js';
import { compareClients } from './clients.js';
import { CFG, cleanupAll, fmt, log, onCleanup, RUN_ID, type Store } from './common.js';
import { createCheck, createRequest, ipnReplyCheck, pgRoundTrip, printLoad, rssSampler, startBenchHub, summarizeLoad, withPostgresDatabase } from './hub.js';
import { runLoad } from './load.js';
import { microCosts } from './micro.js';
import { confirmedIpnBody, openRequest, VANILO_CERT, VANILO_KEY } from './netopia.js';
import { CpuMeter, cpuModel, memoryOf } from './proc.js';
import { previousSoakSection, render, type EchoResult, type FloorResult, type Report, type RsaResult, type StoreResult } from './report.js';
import { measureRsa } from './rsa.js';
import { runSoak } from './soak.js';

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: cleaning up…`);
    void cleanupAll().finally(() => process.exit(130));
  });
}
process.on('exit', killAllChildren);

// ---------------------------------------------------------------------------------------------- baselines

async function rsaBaseline(label: string): Promise<RsaResult> {
  log(
    `\n[baseline A${label}] raw RSA-2048 private operation (RSA_NO_PADDING), ${CFG.rsaDurationS} s on 1 thread, then ${CFG.rsaDurationS} s on ${availableParallelism()} threads`,
  );
  const meter = new CpuMeter(undefined);
  const r = await measureRsa(VANILO_KEY, VANILO_CERT, CFG.rsaDurationS);
  const c = meter.stop();
  const othersCores = c.machine === undefined ? undefined : Math.max(0, c.machine - c.loadGenerator);
  log(
    `  1 thread: ${fmt(r.oneThreadOpsPerS)} ops/s; all cores: ${fmt(r.allCoresOpsPerS)} ops/s (${r.perThreadOpsPerS.map((x) => fmt(x)).join(' + ')}); other processes used ${othersCores?.toFixed(2) ?? 'n/a'} cores meanwhile`,
  );
  return { ...r, othersCores };
}

async function echoBaseline(label: string): Promise<EchoResult> {
  log(`\n[baseline B${label}] bare Fastify POST /echo, ${CFG.concurrency} clients, ${CFG.durationS} s`);
  const server = await startServer('./echo-process.ts', {}, 'echo');
  onCleanup('echo server', () => server.stop());
  try {
    const body = JSON.stringify({ n: 1, hello: 'world' });
    const request = (i: number) => ({
      method: 'POST',
      path: '/echo',
      headers: { 'content-type': 'application/json' },
      body: body.replace('1', String(i % 10)),
    });
    const check = (r: { status: number; body: Buffer }) =>
      r.status === 200 && r.body.toString().startsWith('{"ok":true') ? true : `HTTP ${r.status}: ${r.body}`;
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

/** A few hundred IPN bodies of the run, for the in-process micro costs (bench/micro.ts). */
let ipnBodiesForMicro: string[] | undefined;

/** A temporary PGlite data directory for `fn`, removed afterwards (also on failure or Ctrl-C). */
async function withPgliteDir<T>(what: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'incasso-bench-pglite-'));
  const remove = () => {
    rmSync(dir, { recursive: true, force: true });
  };
  onCleanup(`remove ${dir}`, remove);
  log(`  PGlite data directory for ${what}: ${dir}`);
  try {
    return await fn(dir);
  } finally {
    remove();
  }
}

/** The hub on one store, then the floor (baseline C) on the same store with the same inputs. */
async function benchStore(store: Store): Promise<StoreResult> {
  log(`\n[hub on ${store}]`);
  if (store === 'postgres') {
    return withPostgresDatabase(async (url, pids, version) => {
      const { result, replay } = await benchHub(store, { BENCH_HUB_DATABASE_URL: url }, pids, version);
      return { ...result, floor: await benchFloor(store, { BENCH_FLOOR_DATABASE_URL: url }, pids, replay) };
    });
  }
  const { result, replay } = await withPgliteDir('the hub', (dir) => benchHub(store, { BENCH_HUB_DATA_DIR: dir }, async () => []));
  return { ...result, floor: await withPgliteDir('the floor', (dir) => benchFloor(store, { BENCH_FLOOR_DATA_DIR: dir }, async () => [], replay)) };
}

/** What the floor replays of a hub run: the merchant's API key, the IPN bodies and the crc each reply must echo. */
interface Replay {
  apiKey: string;
  bodies: string[];
  crcs: string[];
}

/**
 * Baseline C, the floor (bench/floor-process.ts) on the same store, clients and inputs as the hub: payment creation
 * for the same duration, then the hub's own IPN bodies. Upper bounds for the hub's two throughputs on this machine.
 */
async function benchFloor(store: Store, storeEnv: Record<string, string>, backendPids: () => Promise<number[]>, replay: Replay): Promise<FloorResult> {
  log(`\n[baseline C on ${store}] the floor: node:http, one durable INSERT per event-loop turn; IPNs opened on ${availableParallelism()} threads`);
  const floor = await startServer(
    './floor-process.ts',
    { ...storeEnv, BENCH_FLOOR_API_KEY_SHA256: createHash('sha256').update(replay.apiKey).digest('hex'), BENCH_HUB_POOL_SIZE: String(CFG.poolSize) },
    `floor:${store}`,
  );
  onCleanup(`floor on ${store}`, () => floor.stop());
  const count = async (text: string) => Number((await floor.query<{ n: number }>(text))[0]!.n);
  try {
    const warm = await runLoad({ url: floor.url, concurrency: CFG.concurrency, count: 300, request: createRequest(replay.apiKey, 'FW'), check: createCheck });
    let meter = new CpuMeter(floor.pid, await backendPids());
    const creation = await runLoad({
      url: floor.url,
      concurrency: CFG.concurrency,
      durationMs: CFG.durationS * 1000,
      request: createRequest(replay.apiKey, 'FC'),
      check: createCheck,
    });
    const creationCpu = meter.stop(await backendPids());
    printLoad(`floor POST /v1/payments (${CFG.concurrency} clients, ${CFG.durationS} s)`, creation, creationCpu);
    const created = await count(`SELECT count(*)::int AS n FROM floor_payments WHERE order_id LIKE 'FC-%'`);
    const creationVerified = warm.errors === 0 && creation.errors === 0 && created === creation.ok;
    const creationVerification = `${created} payments stored for ${creation.ok} successful replies (${creation.errors} errors)`;
    log(`  verification: ${creationVerification} → ${creationVerified ? 'OK' : 'FAILED'}`);

    const request = (offset: number) => (i: number) => ({
      method: 'POST',
      path: '/ipn',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: replay.bodies[offset + i]!,
    });
    const check = (offset: number) => (r: { status: number; body: Buffer }, i: number) => ipnReplyCheck(r, replay.crcs[offset + i]!);
    const warmIpn = await runLoad({ url: floor.url, concurrency: CFG.ipnConcurrency, count: CFG.ipnWarmup, request: request(0), check: check(0) });
    meter = new CpuMeter(floor.pid, await backendPids());
    const ipn = await runLoad({
      url: floor.url,
      concurrency: CFG.ipnConcurrency,
      count: CFG.ipnCount,
      request: request(CFG.ipnWarmup),
      check: check(CFG.ipnWarmup),
    });
    const ipnCpu = meter.stop(await backendPids());
    printLoad(`floor IPN (${CFG.ipnConcurrency} clients, ${fmt(CFG.ipnCount)} IPNs)`, ipn, ipnCpu);
    const stored = await count('SELECT count(*)::int AS n FROM floor_inbox');
    const total = CFG.ipnWarmup + CFG.ipnCount;
    const ipnVerified = warmIpn.errors === 0 && ipn.errors === 0 && stored === total;
    const ipnVerification = `${stored} of ${total} IPNs stored; ${warmIpn.errors + ipn.errors} bad replies`;
    log(`  verification: ${ipnVerification} → ${ipnVerified ? 'OK' : 'FAILED'}`);
    return {
      creation: { load: summarizeLoad(creation), cpu: creationCpu, verified: creationVerified, verification: creationVerification },
      ipn: { load: summarizeLoad(ipn), cpu: ipnCpu, verified: ipnVerified, verification: ipnVerification },
    };
  } finally {
    await floor.stop();
  }
}

async function benchHub(
  store: Store,
  storeEnv: Record<string, string>,
  backendPids: () => Promise<number[]>,
  postgresVersion?: string,
): Promise<{ result: Omit<StoreResult, 'floor'>; replay: Replay }> {
  const { hub, apiKey, notifyPath } = await startBenchHub(store, storeEnv);
  try {
    const count = async (text: string) => Number((await hub.query<{ n: number }>(text))[0]!.n);

    // ---- payment creation, duration-bound
    const idleStartMiB = memoryOf(hub.pid)?.rssMiB ?? NaN;
    log(`  hub pid ${hub.pid}, RSS ${fmt(idleStartMiB, 1)} MiB after start; warming up (300 payments)`);
    const warm = await runLoad({ url: hub.url, concurrency: CFG.concurrency, count: 300, request: createRequest(apiKey, 'PW'), check: createCheck });
    let pids = await backendPids();
    let sampler = rssSampler(hub.pid);
    let meter = new CpuMeter(hub.pid, pids);
    let q0 = await hub.queryCount();
    const creation = await runLoad({
      url: hub.url,
      concurrency: CFG.concurrency,
      durationMs: CFG.durationS * 1000,
      request: createRequest(apiKey, 'PC'),
      check: createCheck,
    });
    const creationCpu = meter.stop(await backendPids());
    const creationQueries = ((await hub.queryCount()) - q0) / creation.requests;
    const maxDuringCreationMiB = sampler();
    printLoad(`POST /v1/payments (${CFG.concurrency} clients, ${CFG.durationS} s)`, creation, creationCpu);
    log(`    ${creationQueries.toFixed(1)} database statements per request (background worker included)`);
    const created = await count(`SELECT count(*)::int AS n FROM payments WHERE order_id LIKE 'PC-%'`);
    const keys = await count(`SELECT count(*)::int AS n FROM idempotency_keys WHERE key LIKE '${RUN_ID}-PC-%' AND response_status = 201`);
    const createdAttempts = await count(
      `SELECT count(*)::int AS n FROM payment_attempts a JOIN payments p ON p.id = a.payment_id WHERE p.order_id LIKE 'PC-%' AND a.redirect IS NOT NULL`,
    );
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
      request: createRequest(apiKey, 'IPN'),
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
    const rows = await hub.query<{ id: string; redirect: unknown }>(
      `SELECT a.id, a.redirect FROM payment_attempts a JOIN payments p ON p.id = a.payment_id WHERE p.order_id LIKE 'IPN-%'`,
    );
    const redirectOf = new Map(
      rows.map((r) => [r.id, (typeof r.redirect === 'string' ? JSON.parse(r.redirect) : r.redirect) as { fields: Record<string, string> }]),
    );
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

    const ipnRequest = (offset: number) => (i: number) => ({
      method: 'POST',
      path: notifyPath,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: bodies[offset + i]!,
    });
    const ipnCheck = (offset: number) => (r: { status: number; body: Buffer }, i: number) => ipnReplyCheck(r, crcs[offset + i]!);
    const warmIpn = await runLoad({ url: hub.url, concurrency: CFG.ipnConcurrency, count: CFG.ipnWarmup, request: ipnRequest(0), check: ipnCheck(0) });
    pids = await backendPids();
    sampler = rssSampler(hub.pid);
    meter = new CpuMeter(hub.pid, pids);
    q0 = await hub.queryCount();
    const ipn = await runLoad({
      url: hub.url,
      concurrency: CFG.ipnConcurrency,
      count: CFG.ipnCount,
      request: ipnRequest(CFG.ipnWarmup),
      check: ipnCheck(CFG.ipnWarmup),
    });
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
    const result = {
      store,
      creation: {
        load: summarizeLoad(creation),
        cpu: creationCpu,
        queriesPerRequest: creationQueries,
        created,
        verified: creationVerified,
        verification: creationVerification,
      },
      precreate: { load: summarizeLoad(precreate) },
      ipn: {
        load: summarizeLoad(ipn),
        cpu: ipnCpu,
        queriesPerRequest: ipnQueries,
        paid,
        applied,
        expected: total,
        verified: ipnVerified,
        verification: ipnVerification,
      },
      rss: { idleStartMiB, maxDuringCreationMiB, maxDuringIpnMiB, idleEndMiB: mem?.rssMiB ?? NaN, peakMiB: mem?.peakMiB ?? NaN },
      prepS: { precreate: precreateS, openRequests: openS, buildIpns: buildS },
      postgresVersion,
    };
    return { result, replay: { apiKey, bodies, crcs } };
  } finally {
    await hub.stop();
  }
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
    machine: {
      cores: availableParallelism(),
      logicalCpus: cpus().length,
      cpu: cpuModel(),
      node: process.version,
      memGiB: totalmem() / 2 ** 30,
      loadavgStart: loadavg(),
      pglite: pgliteVersion,
    },
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
      if (!s.floor.creation.verified) report.failures.push(`${store}: floor payment creation did not verify (${s.floor.creation.verification})`);
      if (!s.floor.ipn.verified) report.failures.push(`${store}: floor IPN results did not verify (${s.floor.ipn.verification})`);
    } catch (e) {
      report.failures.push(`${store}: ${(e as Error).message}`);
      log(`  ${store} FAILED: ${(e as Error).stack}`);
    }
  }
  report.micro = microCosts(ipnBodiesForMicro);
  if (report.micro && pgRoundTrip) Object.assign(report.micro, { pgRoundTripWallUs: pgRoundTrip.wallUs, pgRoundTripClientCpuUs: pgRoundTrip.clientCpuUs });
  if (CFG.clientRounds > 0) {
    try {
      report.clients = await compareClients();
      for (const c of report.clients.checks) if (!c.ok) report.failures.push(`NETOPIA v1 client comparison: ${c.what}: ${c.detail}`);
    } catch (e) {
      report.failures.push(`NETOPIA v1 client comparison: ${(e as Error).message}`);
      log(`  client comparison FAILED: ${(e as Error).stack}`);
    }
  }
  report.rsa.push(await rsaBaseline(' (after)'));
  report.echo.push(await echoBaseline(' (after)'));
  if (CFG.soakS > 0) {
    const s0 = performance.now();
    try {
      report.soak = await runSoak();
      if (!report.soak.verified) report.failures.push(`soak: results did not verify (${report.soak.verification})`);
    } catch (e) {
      report.failures.push(`soak: ${(e as Error).message}`);
      log(`  soak FAILED: ${(e as Error).stack}`);
    }
    report.soakElapsedS = (performance.now() - s0) / 1000;
  } else if (CFG.resultsFile && CFG.resultsFile !== '-' && existsSync(CFG.resultsFile)) {
    report.previousSoak = previousSoakSection(readFileSync(CFG.resultsFile, 'utf8'));
  }
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
