import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { freePort } from '../support/hub.js';
import { NETOPIA_TEXT } from '../../emulators/netopia-v1/page-text.js';
import { TEST_STORE } from '../support/store.js';

/**
 * The README's walkthrough, followed literally: every ```sh block between the `readme-walkthrough` markers of
 * README.md runs in order, as a reader would type it, in a temporary directory that holds the checkout's files
 * (linked) and its own `data/`. The port the README uses (8181) is replaced by a free one, so the run never meets
 * another hub; the placeholders the README tells the reader to fill in (`sk_...`, `whsec_...`, `pay_...`) get
 * what the commands before them printed. `PORT=… npm start` starts the hub (PGlite in `data/`, emulators on; on
 * the PostgreSQL run, with `DATABASE_URL` on a database of its own, as the README's configuration says). Where the
 * README sends the reader to a browser (open the `payment_url`, pay with the card it names), headless Chromium
 * does it with the card, expiry and CVV read from the README's text. Every command must succeed, and a command
 * whose comment says `# status X` or `# shows X` must print X (a webhook may take a moment: such a command is
 * run again for a few seconds, as a reader would).
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const README_PORT = '8181';

interface Command {
  text: string;
  /** The README text between this command's block and the previous one (what the reader is told to do). */
  prose: string;
}

/** The walkthrough's commands, in order: the ```sh blocks of the marked section, continuation lines joined. */
export function walkthroughCommands(readme: string): Command[] {
  const start = readme.indexOf('<!-- readme-walkthrough:start');
  const end = readme.indexOf('<!-- readme-walkthrough:end -->');
  assert.ok(start >= 0 && end > start, 'README.md has the readme-walkthrough markers');
  const section = readme.slice(start, end);
  const commands: Command[] = [];
  const fence = /^[ \t]*```sh\n([\s\S]*?)^[ \t]*```$/gm;
  let last = 0;
  for (let m = fence.exec(section); m; m = fence.exec(section)) {
    const prose = section.slice(last, m.index);
    last = m.index + m[0].length;
    const lines = m[1]!.split('\n').map((l) => l.trim());
    let pending = '';
    let first = true;
    for (const line of lines) {
      if (!line && !pending) continue;
      if (line.endsWith('\\')) {
        pending += `${line.slice(0, -1).trimEnd()} `;
        continue;
      }
      commands.push({ text: pending + line, prose: first ? prose : '' });
      pending = '';
      first = false;
    }
  }
  return commands;
}

/** The card the README's text tells the reader to pay with: "pay with `PAN`, expiry `MM/YY`, CVV `NNN`". */
function cardIn(prose: string): { pan: string; expiry: string; cvv: string } | undefined {
  const m = /pay with\s+`(\d{16})`,\s+expiry\s+`(\d\d\/\d\d)`,\s+CVV\s+`(\d{3})`/.exec(prose);
  return m ? { pan: m[1]!, expiry: m[2]!, cvv: m[3]! } : undefined;
}

/**
 * What the command's comment says it prints: `# status paid` (the payment's `"status": "paid"`), `# shows X` (X
 * anywhere in the output).
 */
function expectationOf(command: string): { what: string; found: (output: string) => boolean } | undefined {
  const m = /#\s*(status|shows)\s+([\w.]+)/.exec(command);
  if (!m) return undefined;
  const [, kind, what] = m as unknown as [string, string, string];
  if (kind === 'shows') return { what, found: (output) => output.includes(what) };
  const status = new RegExp(`"status":\\s*"${what}"`);
  return { what: `status ${what}`, found: (output) => status.test(output) };
}

const ENV_MARK = '\0__readme_env__\0';

describe(`the README walkthrough, literally, on another port (${TEST_STORE})`, () => {
  let dir: string;
  let port: number;
  let hubProcess: ChildProcess | undefined;
  let hubOutput = '';
  let browser: Browser;
  let database: { admin: string; name: string } | undefined;
  /** The shell's environment as the walkthrough's `export`s leave it. */
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'incasso-readme-'));
    for (const name of ['bin', 'src', 'emulators', 'node_modules', 'package.json', 'tsconfig.json']) symlinkSync(join(ROOT, name), join(dir, name));
    port = await freePort();
    // A reader's shell: none of this run's own settings for the hub or the CLI.
    env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(INCASSO_|DATABASE_URL$|PORT$|HOST$|LOG_LEVEL$|NODE_OPTIONS$|NODE_TEST)/.test(k)));
    // Two cores shared with others: one verification thread is plenty for a walkthrough.
    env.INCASSO_VERIFY_THREADS = '1';
    if (TEST_STORE === 'postgres') {
      const admin = process.env.INCASSO_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
      const name = `readme_${randomBytes(6).toString('hex')}`;
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      await client.query(`CREATE DATABASE ${name}`);
      await client.end();
      database = { admin, name };
      const url = new URL(admin);
      url.pathname = `/${name}`;
      env.DATABASE_URL = url.toString();
    }
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    if (hubProcess?.pid && hubProcess.exitCode === null) {
      process.kill(-hubProcess.pid, 'SIGTERM');
      await new Promise((r) => {
        const timer = setTimeout(() => {
          if (hubProcess?.exitCode === null) process.kill(-hubProcess.pid!, 'SIGKILL');
          r(undefined);
        }, 10_000);
        hubProcess!.once('exit', () => r(clearTimeout(timer)));
      });
    }
    if (database) {
      const client = new pg.Client({ connectionString: database.admin });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${database.name} WITH (FORCE)`);
      await client.end();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs one command in bash with the walkthrough's environment; `export`s carry over to the next command. */
  function run(command: string): Promise<{ code: number; output: string }> {
    const script = `${command}\n__rc=$?\nprintf '${ENV_MARK.replaceAll('\0', '\\0')}'\nenv -0\nexit $__rc\n`;
    return new Promise((resolveRun, reject) => {
      const child = spawn('bash', ['-c', script], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        const text = Buffer.concat(out).toString('utf8');
        const at = text.indexOf(ENV_MARK);
        if (at >= 0) {
          const next: NodeJS.ProcessEnv = {};
          for (const entry of text.slice(at + ENV_MARK.length).split('\0')) {
            const eq = entry.indexOf('=');
            if (eq > 0) next[entry.slice(0, eq)] = entry.slice(eq + 1);
          }
          for (const k of ['_', 'SHLVL', 'PWD', 'OLDPWD', '__rc']) delete next[k];
          env = next;
        }
        resolveRun({ code: code ?? -1, output: (at >= 0 ? text.slice(0, at) : text) + Buffer.concat(err).toString('utf8') });
      });
    });
  }

  /** `PORT=… npm start`: the hub in the background, in its own process group; resolves when it answers. */
  async function startHub(command: string) {
    hubProcess = spawn('bash', ['-c', command], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    hubProcess.stdout!.on('data', (b: Buffer) => (hubOutput += b.toString('utf8')));
    hubProcess.stderr!.on('data', (b: Buffer) => (hubOutput += b.toString('utf8')));
    const deadline = Date.now() + 90_000;
    for (;;) {
      assert.equal(hubProcess.exitCode, null, `the hub exited: ${hubOutput}`);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return;
      assert.ok(Date.now() < deadline, `the hub did not answer on ${port}: ${hubOutput}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('runs every command of the walkthrough; the payments end as it says', { timeout: 600_000 }, async () => {
    const commands = walkthroughCommands(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    assert.ok(commands.length >= 10, `the walkthrough has its commands (${commands.length})`);
    const seen = { apiKey: '', secret: '', paymentId: '', paymentUrl: '' };
    const paid: string[] = [];
    let statusesChecked = 0;

    for (const { text, prose } of commands) {
      // The README's browser step before this command: pay the payment the commands before it created.
      const card = cardIn(prose);
      if (card) {
        assert.ok(seen.paymentUrl, `a payment_url to open before: ${text}`);
        const page = await browser.newPage();
        try {
          await page.goto(seen.paymentUrl);
          // NETOPIA's card page speaks the payment's language (Romanian unless asked otherwise): its own labels.
          await page.waitForURL(/\/card\//);
          const lang = (await page.locator('html').getAttribute('lang')) === 'en' ? 'en' : 'ro';
          const t = NETOPIA_TEXT[lang];
          await page.getByLabel(t.cardNumberLabel, { exact: true }).fill(card.pan);
          await page.getByLabel(t.expiryLabel, { exact: true }).fill(card.expiry);
          await page.getByLabel(t.cvvLabel, { exact: true }).fill(card.cvv);
          await page.getByRole('button', { name: t.pay, exact: true }).click();
          await page.waitForURL((u) => u.pathname.endsWith('/return'), { timeout: 30_000 });
          paid.push(seen.paymentId);
        } finally {
          await page.close();
        }
      }

      let command = text.replaceAll(README_PORT, String(port));
      if (/^PORT=\S+ npm start$/.test(command)) {
        await startHub(command);
        continue;
      }
      for (const [placeholder, value, what] of [
        ['sk_...', seen.apiKey, 'an API key'],
        ['whsec_...', seen.secret, 'a webhook secret'],
        ['pay_...', seen.paymentId, 'a payment id'],
      ] as const) {
        if (!command.includes(placeholder)) continue;
        assert.ok(value, `${what} printed before: ${text}`);
        command = command.replaceAll(placeholder, value);
      }

      const expected = expectationOf(text);
      const deadline = Date.now() + 15_000;
      let result = await run(command);
      while (result.code === 0 && expected && !expected.found(result.output) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        result = await run(command);
      }
      assert.equal(result.code, 0, `\`${text}\` failed:\n${result.output}\nhub:\n${hubOutput.slice(-3000)}`);
      if (expected) {
        assert.ok(expected.found(result.output), `\`${text}\` should show ${expected.what}:\n${result.output}`);
        statusesChecked++;
      }

      const out = result.output;
      seen.apiKey = /\b(sk_[A-Za-z0-9_-]{16,})/.exec(out)?.[1] ?? seen.apiKey;
      seen.secret = /\b(whsec_[A-Za-z0-9+/=_-]{16,})/.exec(out)?.[1] ?? seen.secret;
      if (/ payments create /.test(` ${command} `)) {
        seen.paymentId = /\b(pay_[A-Za-z0-9]+)/.exec(out)?.[1] ?? '';
        seen.paymentUrl = /(https?:\/\/\S+\/pay\/[^\s"']+)/.exec(out)?.[1] ?? '';
        assert.ok(seen.paymentId && seen.paymentUrl, `payments create printed its id and payment_url:\n${out}`);
      }
    }

    // The console, as the README says: the first start printed one line with the operator's one-time link; set the
    // password there, log in as the operator it names, and find the walkthrough's merchant with its two payments.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const operator = /log in as `([^`]+)`/.exec(readme)?.[1];
    assert.equal(operator, 'operator@localhost', 'the README names the first start’s operator');
    const linkLines = hubOutput.split('\n').filter((l) => l.includes('/console/set-password'));
    assert.equal(linkLines.length, 1, `the first start printed one link line:\n${hubOutput.slice(0, 3000)}`);
    assert.ok(
      linkLines[0]!.startsWith(`Console operator ${operator} created: set its password at http://127.0.0.1:${port}/console/set-password?token=`),
      linkLines[0],
    );
    const link = /(http:\/\/\S+\/console\/set-password\?token=[A-Za-z0-9_-]+)/.exec(linkLines[0]!)![1]!;
    const consolePage = await browser.newPage();
    consolePage.setDefaultTimeout(120_000);
    try {
      await consolePage.goto(link);
      await consolePage.getByLabel('New password').fill('a walkthrough password');
      await consolePage.getByLabel('Repeat the password').fill('a walkthrough password');
      await consolePage.getByRole('button', { name: 'Save the password' }).click();
      await consolePage.goto(`http://127.0.0.1:${port}/console/`);
      await consolePage.getByLabel('E-mail').fill(operator);
      await consolePage.getByLabel('Password').fill('a walkthrough password');
      await consolePage.getByRole('button', { name: 'Log in' }).click();
      await consolePage.waitForURL((u) => !u.pathname.endsWith('/login'));
      await consolePage.getByRole('link', { name: 'Operator', exact: true }).click();
      assert.equal(await consolePage.locator('h1').innerText(), 'Hub health');
      await consolePage.getByRole('link', { name: 'Merchants', exact: true }).click();
      const demo = await consolePage.locator('#merchants tbody tr', { hasText: 'Demo Shop' }).locator('td').allInnerTexts();
      assert.equal(demo[3], '2', `Demo Shop has the walkthrough's two payments: ${demo.join(' | ')}`);
    } finally {
      await consolePage.close();
    }

    assert.equal(env.INCASSO_URL, `http://127.0.0.1:${port}`, 'the walkthrough pointed the CLI at the hub on the other port');
    assert.equal(paid.length, 2, 'both payments (NETOPIA v1 and v2) were paid in the browser');
    assert.ok(statusesChecked >= 5, `the states the README names were checked (${statusesChecked})`);
    assert.ok(!hubOutput.includes(seen.apiKey), 'the API key is not in the hub output');
  });
});
