#!/usr/bin/env node
// Runs the whole test suite twice: once on embedded PGlite and once on the PostgreSQL server named by
// INCASSO_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres), in a database created for
// this run and dropped afterwards. Usage: node scripts/test.mjs [--store pglite|postgres] [file-or-dir ...]
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import pg from 'pg';

const args = process.argv.slice(2);
let stores = ['pglite', 'postgres'];
const paths = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--store') stores = [args[++i]];
  else paths.push(args[i]);
}

function collect(p, out) {
  const st = statSync(p);
  if (st.isDirectory()) {
    for (const name of readdirSync(p).sort()) collect(join(p, name), out);
  } else if (/\.test\.ts$/.test(p)) out.push(resolve(p));
  return out;
}
const collected = (paths.length ? paths : ['test']).flatMap((p) => collect(p, []));
if (collected.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

// Each file's wall time in a recorded run, per store (scripts/test-durations.json, rewritten by a run with
// INCASSO_RECORD_DURATIONS=1).
// Files start slowest first, so the long ones do not start last and leave one worker running alone at the end; a
// file not yet timed counts as a typical one (the median). The order changes no result: each file runs in its own
// process.
const durationsPath = resolve('scripts/test-durations.json');
let known = {};
try {
  known = JSON.parse(readFileSync(durationsPath, 'utf8'));
} catch {}
const keyOf = (file) => relative(process.cwd(), file).split('\\').join('/');
function ordered(store) {
  const past = known[store] ?? {};
  const times = Object.values(past).sort((a, b) => a - b);
  const typical = times.length ? times[Math.floor(times.length / 2)] : 0;
  const time = (file) => past[keyOf(file)] ?? typical;
  return [...collected].sort((a, b) => time(b) - time(a) || (a < b ? -1 : 1));
}

// The page tests drive Debian's Chromium; install it when missing and we may (root with apt-get), else say how.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromium)) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log('Installing Chromium from Debian for the page tests…');
    execFileSync('/bin/sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null'], { stdio: 'inherit' });
  } else {
    console.error(`The page tests need Chromium at ${chromium}: run "sudo apt-get install -y chromium" (or set CHROMIUM_PATH).`);
    process.exit(1);
  }
}

// Types first: tsx runs the tests without checking them.
if (!process.env.INCASSO_SKIP_TYPECHECK) {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit'], { stdio: 'inherit' });
  if (tsc.status !== 0) {
    console.error('typecheck failed');
    process.exit(1);
  }
}

// Then the house rules (layering, cycles, floating promises, formatting: scripts/house.mjs); INCASSO_SKIP_HOUSE=1
// skips them for quick local runs, as INCASSO_SKIP_TYPECHECK does the types. They do not depend on the store.
if (!process.env.INCASSO_SKIP_HOUSE) {
  const house = spawnSync(process.execPath, ['scripts/house.mjs'], { stdio: 'inherit' });
  if (house.status !== 0) {
    console.error('house checks failed (node scripts/house.mjs names each; INCASSO_SKIP_HOUSE=1 skips them)');
    process.exit(1);
  }
}

const adminUrl = process.env.INCASSO_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function withPostgresDatabase(fn) {
  const name = `incasso_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = '/' + name;
  try {
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((e) => console.error('drop failed', e.message));
    await admin.end();
  }
}

// PGlite: one migrated database dumped for the whole run; each test store starts from a copy of it instead of
// creating and migrating its own (test/support/store.ts). INCASSO_TEST_PGLITE_DUMP=0 turns it off.
async function withPgliteDump(fn) {
  if (process.env.INCASSO_TEST_PGLITE_DUMP === '0') {
    delete process.env.INCASSO_TEST_PGLITE_DUMP;
    return fn();
  }
  const dir = mkdtempSync(join(tmpdir(), 'incasso-test-'));
  const path = join(dir, 'migrated.pglite');
  try {
    const made = spawnSync(process.execPath, ['--import', 'tsx', 'test/support/pglite-dump.ts', path], { stdio: 'inherit' });
    if (made.status !== 0) throw new Error('could not make the migrated PGlite database the tests start from (test/support/pglite-dump.ts)');
    process.env.INCASSO_TEST_PGLITE_DUMP = path;
    return await fn();
  } finally {
    delete process.env.INCASSO_TEST_PGLITE_DUMP;
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runSuite(store, databaseUrl) {
  const env = { ...process.env, INCASSO_TEST_STORE: store, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import tsx`.trim() };
  if (databaseUrl) env.INCASSO_TEST_DATABASE_URL = databaseUrl;
  Object.assign(process.env, env);
  let passed = 0,
    failed = 0,
    skipped = 0;
  const files = ordered(store);
  // Each file's wall time: node reports a file as a whole with test:complete under the file's own name (and its
  // duration); the first and last event seen from it stand in where that event does not come.
  const firstSeen = new Map();
  const lastSeen = new Map();
  const fileMs = new Map();
  const started = Date.now();
  const stream = run({ files, concurrency: Number(process.env.INCASSO_TEST_CONCURRENCY ?? 2), timeout: 10 * 60_000 });
  for (const kind of [
    'test:enqueue',
    'test:dequeue',
    'test:start',
    'test:pass',
    'test:fail',
    'test:complete',
    'test:diagnostic',
    'test:stdout',
    'test:stderr',
  ]) {
    stream.on(kind, (ev) => {
      if (!ev?.file) return;
      const now = Date.now();
      if (!firstSeen.has(ev.file)) firstSeen.set(ev.file, now);
      lastSeen.set(ev.file, now);
      if (kind === 'test:complete' && ev.nesting === 0 && ev.name === ev.file && typeof ev.details?.duration_ms === 'number')
        fileMs.set(ev.file, ev.details.duration_ms);
    });
  }
  stream.on('test:pass', (ev) => {
    if (ev.details?.type !== 'suite') {
      if (ev.skip || ev.todo) skipped++;
      else passed++;
    }
  });
  // A failing todo test is a known gap, reported but not failing the run (node's own runner does the same).
  stream.on('test:fail', (ev) => {
    if (ev.details?.type !== 'suite') {
      if (ev.todo) skipped++;
      else failed++;
    }
  });
  await new Promise((resolveDone, reject) => {
    const out = stream.compose(spec);
    out.on('data', (chunk) => process.stdout.write(chunk));
    out.on('end', resolveDone);
    out.on('error', reject);
  });
  const times = files.map((file) => [file, fileMs.get(file) ?? (firstSeen.has(file) ? lastSeen.get(file) - firstSeen.get(file) : 0)]);
  return { passed, failed, skipped, times, wallMs: Date.now() - started };
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
function printSlowest(store, result) {
  const slowest = [...result.times].sort((a, b) => b[1] - a[1]).slice(0, 15);
  const sum = result.times.reduce((total, [, ms]) => total + ms, 0);
  console.log(`\n[${store}] slowest files (of ${result.times.length}; ${seconds(sum)} in files, ${seconds(result.wallMs)} wall):`);
  for (const [file, ms] of slowest) console.log(`  ${seconds(ms).padStart(8)}  ${keyOf(file)}`);
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const results = {};
for (const store of stores) {
  console.log(`\n=== test suite on ${store} (${collected.length} files) ===\n`);
  const result = store === 'postgres' ? await withPostgresDatabase((url) => runSuite(store, url)) : await withPgliteDump(() => runSuite(store));
  results[store] = result;
  console.log(`[${store}] ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped`);
  for (const k of Object.keys(totals)) totals[k] += result[k];
}
for (const store of stores) printSlowest(store, results[store]);
// With INCASSO_RECORD_DURATIONS=1 a run records its files' times for the next runs' order (commit the file when the
// order moved); otherwise it leaves the tracked file alone, so `npm test` never dirties the work tree.
const record = process.env.INCASSO_RECORD_DURATIONS === '1';
if (record) {
  // Read again: another run may have recorded its own files meanwhile.
  try {
    known = JSON.parse(readFileSync(durationsPath, 'utf8'));
  } catch {}
}
for (const store of stores) {
  const entry = { ...(known[store] ?? {}) };
  if (!paths.length) for (const key of Object.keys(entry)) if (!collected.some((file) => keyOf(file) === key)) delete entry[key];
  for (const [file, ms] of results[store].times) if (ms > 0) entry[keyOf(file)] = Math.round(ms);
  known[store] = Object.fromEntries(Object.entries(entry).sort(([a], [b]) => (a < b ? -1 : 1)));
}
if (record) {
  try {
    writeFileSync(durationsPath, JSON.stringify(known, null, 2) + '\n');
  } catch (e) {
    console.error(`could not record the files' times in ${durationsPath}: ${e.message}`);
  }
}
console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 || totals.passed === 0 ? 1 : 0);
