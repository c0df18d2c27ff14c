#!/usr/bin/env node
// Runs the whole test suite twice: once on embedded PGlite and once on the PostgreSQL server named by
// INCASSO_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres), in a database created for
// this run and dropped afterwards. Usage: node scripts/test.mjs [--store pglite|postgres] [file-or-dir ...]
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
const files = (paths.length ? paths : ['test']).flatMap((p) => collect(p, []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
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

async function runSuite(store, databaseUrl) {
  const env = { ...process.env, INCASSO_TEST_STORE: store, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import tsx`.trim() };
  if (databaseUrl) env.INCASSO_TEST_DATABASE_URL = databaseUrl;
  Object.assign(process.env, env);
  let passed = 0,
    failed = 0,
    skipped = 0;
  const stream = run({ files, concurrency: Number(process.env.INCASSO_TEST_CONCURRENCY ?? 2), timeout: 10 * 60_000 });
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
  return { passed, failed, skipped };
}

const totals = { passed: 0, failed: 0, skipped: 0 };
for (const store of stores) {
  console.log(`\n=== test suite on ${store} (${files.length} files) ===\n`);
  const result = store === 'postgres' ? await withPostgresDatabase((url) => runSuite(store, url)) : await runSuite(store);
  console.log(`[${store}] ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped`);
  for (const k of Object.keys(totals)) totals[k] += result[k];
}
console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 || totals.passed === 0 ? 1 : 0);
