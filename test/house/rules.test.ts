import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The house rules must be able to fail: a config whose paths stopped matching (or whose resolver stopped
 * resolving `./x.js` to `./x.ts`) would pass every tree, so `npm test` would check nothing. These tests run the
 * repository's own configs on a small tree made here, with one wrong import per rule and one allowed import
 * beside it, and on the real emulators.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// The runner's NODE_OPTIONS load tsx; the tools need none of it.
const toolEnv = { ...process.env, NODE_OPTIONS: '', FORCE_COLOR: '0' };

interface Violation {
  rule: string;
  from: string;
  to: string;
}

function cruise(cwd: string, paths: string[]): Violation[] {
  const run = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
      ...paths,
      '--config',
      join(root, '.dependency-cruiser.cjs'),
      '--output-type',
      'json',
    ],
    { cwd, env: toolEnv, encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  assert.ok(run.stdout, `dependency-cruiser printed nothing: ${run.stderr}`);
  const result = JSON.parse(run.stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
  return result.summary.violations
    .map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }))
    .sort((a, b) => `${a.rule} ${a.from} ${a.to}`.localeCompare(`${b.rule} ${b.from} ${b.to}`));
}

function writeTree(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

const TSCONFIG = JSON.stringify({
  compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: [] },
  include: ['src', 'emulators'],
});

describe('dependency rules', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'incasso-house-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('report each wrong import by its rule and let the allowed ones through', () => {
    writeTree(dir, {
      'tsconfig.json': TSCONFIG,
      'src/core/money.ts': "import { total } from '../services/payments.js';\nimport { id } from './ids.js';\nexport const money = total + id;\n",
      'src/core/ids.ts': "import type { Nope } from './nope.js';\nexport const id: Nope | number = 1;\n",
      'src/services/payments.ts':
        "import { sendProblem } from '../http/problem.js';\nimport { codec } from '../connectors/volt.js';\nimport { rows } from '../store/queries.js';\nexport const total = sendProblem + codec + rows;\n",
      'src/services/mount.ts': "import { emulator } from '../../emulators/volt/a.js';\nexport const mounted = emulator;\n",
      'src/http/problem.ts': "import { total } from '../services/payments.js';\nexport const sendProblem = 1;\nexport const again = () => total;\n",
      'src/store/queries.ts':
        "import { money } from '../core/money.js';\nimport { codec } from '../connectors/volt.js';\nexport const rows = [money, codec].length;\n",
      'src/connectors/volt.ts':
        "import { config } from '../config.js';\nimport { Secret } from '../security/secret.js';\nimport { id } from '../core/ids.js';\nexport const codec = config + Secret + id;\n",
      'src/config.ts': 'export const config = 1;\n',
      'src/security/secret.ts': 'export const Secret = 1;\n',
      'src/html/template.ts':
        "import { money } from '../core/money.js';\nimport { sendProblem } from '../http/problem.js';\nexport const html = money + sendProblem;\n",
      'src/server.ts':
        "import { emulator } from '../emulators/volt/a.js';\nimport { mounted } from './services/mount.js';\nexport const server = [emulator, mounted];\n",
      'src/lonely.ts': 'export const nobody = 1;\n',
      'emulators/volt/a.ts':
        "import { total } from '../../src/services/payments.js';\nimport { codec } from '../../src/connectors/volt.js';\nimport { html } from '../../src/html/template.js';\nimport { b } from './b.js';\nexport const emulator = [total, codec, html, b];\n",
      'emulators/volt/b.ts': "import { emulator } from './a.js';\nexport const b = () => emulator;\n",
    });
    const cycle = (from: string, to: string): Violation => ({ rule: 'no-circular', from, to });
    const expected: Violation[] = [
      { rule: 'connectors-are-codecs', from: 'src/connectors/volt.ts', to: 'src/config.ts' },
      { rule: 'core-imports-only-core', from: 'src/core/money.ts', to: 'src/services/payments.ts' },
      { rule: 'emulators-stay-outside-the-hub', from: 'emulators/volt/a.ts', to: 'src/services/payments.ts' },
      { rule: 'html-template-is-neutral', from: 'src/html/template.ts', to: 'src/http/problem.ts' },
      // One report per cycle: emulators a ⇄ b, services/payments ⇄ http/problem, core/money → services/payments → store/queries → core/money.
      cycle('emulators/volt/a.ts', 'emulators/volt/b.ts'),
      cycle('src/core/money.ts', 'src/services/payments.ts'),
      cycle('src/http/problem.ts', 'src/services/payments.ts'),
      { rule: 'no-orphans', from: 'src/lonely.ts', to: 'src/lonely.ts' },
      { rule: 'not-to-unresolvable', from: 'src/core/ids.ts', to: './nope.js' },
      { rule: 'only-the-composition-root-mounts-emulators', from: 'src/services/mount.ts', to: 'emulators/volt/a.ts' },
      { rule: 'services-never-import-http', from: 'src/services/payments.ts', to: 'src/http/problem.ts' },
      { rule: 'store-imports-only-core', from: 'src/store/queries.ts', to: 'src/connectors/volt.ts' },
    ].sort((a, b) => `${a.rule} ${a.from} ${a.to}`.localeCompare(`${b.rule} ${b.from} ${b.to}`));
    assert.deepEqual(cruise(dir, ['src', 'emulators']), expected);
  });

  it('hold for the emulators as they are: no hub import, no cycle', () => {
    // The emulators reach into src/ only for core, connector codecs and the HTML template, none of which may
    // import the services, so this holds whatever the services' own state.
    assert.deepEqual(cruise(root, ['emulators']), []);
  });
});

describe('lint rules', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'incasso-lint-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('flag floating, misused and non-thenable promises, and let void and node:test through', () => {
    writeTree(dir, {
      'tsconfig.json': JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: [] },
        include: ['src', 'test'],
      }),
      // The repository's config as it is; a config file here makes this directory the lint's base path.
      'eslint.config.mjs': `export { default } from ${JSON.stringify(join(root, 'eslint.config.js'))};\n`,
      'src/core/probe.ts': [
        'async function save(): Promise<void> {}',
        'function later(fn: () => void): void { fn(); }',
        'export async function f(): Promise<void> {',
        '  save();',
        '  // The caller never waits for this one.',
        '  void save();',
        '  await save();',
        '  later(async () => { await save(); });',
        '  await 1;',
        '}',
        '',
      ].join('\n'),
      // Just enough of node:test's types for the rule's allowance to be found (this tree has no @types/node).
      'test/node-test.d.ts': "declare module 'node:test' { export function test(name: string, fn: () => Promise<void>): Promise<void>; }\n",
      'test/probe.test.ts':
        "import { test } from 'node:test';\nasync function other(name: string): Promise<void> {}\ntest('runs', async () => {});\nother('floats');\n",
    });
    const run = spawnSync(process.execPath, [join(root, 'node_modules/eslint/bin/eslint.js'), '--format', 'json', 'src', 'test'], {
      cwd: dir,
      env: toolEnv,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    assert.ok(run.stdout, `eslint printed nothing: ${run.stderr}`);
    const results = JSON.parse(run.stdout) as { filePath: string; messages: { ruleId: string | null; line: number; message: string }[] }[];
    const found = results.flatMap((r) => r.messages.map((m) => `${r.filePath.slice(dir.length + 1)}:${m.line} ${m.ruleId ?? m.message}`)).sort();
    assert.deepEqual(found, [
      'src/core/probe.ts:4 @typescript-eslint/no-floating-promises',
      'src/core/probe.ts:8 @typescript-eslint/no-misused-promises',
      'src/core/probe.ts:9 @typescript-eslint/await-thenable',
      'test/probe.test.ts:4 @typescript-eslint/no-floating-promises',
    ]);
    assert.equal(run.status, 1);
  });
});
