#!/usr/bin/env node
// The house rules, checked the way CI checks them (`npm test` runs them all before the tests; `npm run check`
// runs them alone). Usage: node scripts/house.mjs [deps] [cycles] [lint] [format]   (no name: all four)
//   deps    the layering rules and import cycles (dependency-cruiser, .dependency-cruiser.cjs)
//   cycles  import cycles again, with madge's own parser, as the issue states the acceptance check
//   lint    correctness with types (ESLint + typescript-eslint: floating and misused promises; eslint.config.js)
//   format  every file as the formatter writes it (Biome, biome.json; `npm run format` fixes it)
// All run side by side; each one's output is printed whole after it ends, with its time, and the exit code is
// non-zero when any failed. Tools run from node_modules with this Node: `npm ci` is all a machine needs.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHECKS = {
  deps: ['node_modules/dependency-cruiser/bin/dependency-cruise.mjs', 'src', 'emulators', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'],
  cycles: ['node_modules/madge/bin/cli.js', '--circular', '--extensions', 'ts', '--no-spinner', '--warning', 'src', 'emulators'],
  lint: ['node_modules/eslint/bin/eslint.js', '--max-warnings', '0', '.'],
  format: ['node_modules/@biomejs/biome/bin/biome', 'format', '--reporter=summary', '.'],
};

const asked = process.argv.slice(2);
for (const name of asked) {
  if (!(name in CHECKS)) {
    console.error(`unknown check ${JSON.stringify(name)}; the checks are: ${Object.keys(CHECKS).join(', ')}`);
    process.exit(2);
  }
}
const names = asked.length ? asked : Object.keys(CHECKS);

function runCheck(name) {
  const started = performance.now();
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, CHECKS[name], { cwd: root, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('error', (e) => resolveRun({ name, ok: false, output: `could not start: ${e.message}`, seconds: 0 }));
    child.on('close', (code, signal) =>
      resolveRun({ name, ok: code === 0, output: signal ? `${output}\nkilled by ${signal}` : output, seconds: (performance.now() - started) / 1000 }),
    );
  });
}

const started = performance.now();
const results = await Promise.all(names.map(runCheck));
for (const r of results) {
  console.log(`\n--- house check ${r.name}: ${r.ok ? 'passed' : 'FAILED'} in ${r.seconds.toFixed(1)} s`);
  // A passing check's output is noise (madge's file count, Biome's summary); a failing one's is the point.
  if (!r.ok) console.log(r.output.trimEnd());
}
const failed = results.filter((r) => !r.ok).map((r) => r.name);
console.log(`\nhouse checks: ${failed.length ? `FAILED (${failed.join(', ')})` : 'passed'} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (failed.includes('format')) console.log('(`npm run format` rewrites the files as the formatter wants them)');
process.exit(failed.length ? 1 : 0);
