// The first start of `incasso serve` lets the operator into the console without curl: on a fresh data directory
// (or database) the hub makes the console's operator and prints ONE line with a one-time link to set its password;
// the link is the only secret printed, works once, and a restart prints nothing. On PostgreSQL, several processes
// starting together on one fresh database make one operator and one link between them.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { seriousViolations } from '../support/axe.js';
import { stablePort } from '../support/hub-process.js';
import { durableHubDatabase, NEEDS_POSTGRES, ON_POSTGRES } from '../support/resilience.js';

const BIN = fileURLToPath(new URL('../../bin/incasso.js', import.meta.url));
const LINK_LINE =
  /^Console operator (\S+) created: set its password at (http:\/\/\S+\/console\/set-password\?token=[A-Za-z0-9_-]+) \(works once, until \d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/;

const cleanups: Array<() => Promise<void> | void> = [];
let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  for (const c of cleanups.reverse()) await c();
});

const started: Array<{ stdout(): string; stderr(): string }> = [];
/** Runs a test's body; a failure carries what every hub it started printed (a CI log keeps only the failure's text). */
async function telling(body: () => Promise<void>): Promise<void> {
  started.length = 0;
  try {
    await body();
  } catch (e) {
    const printed = started.map((h, i) => `--- hub ${i + 1} stdout:\n${h.stdout()}\n--- hub ${i + 1} stderr:\n${h.stderr()}`).join('\n');
    if (e instanceof Error) e.message += `\n${printed}`;
    throw e;
  }
}

/** `incasso serve` with exactly this environment (plus PATH and HOME); resolves once it says it listens. */
async function serve(env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', INCASSO_VERIFY_THREADS: '1', INCASSO_EMULATORS: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  // PGlite's first start (migrations) on a busy machine takes a while; every wait of this file is bounded well
  // inside the runner's 10 minutes, so a stuck hub fails the test with what it printed (see `telling`).
  const deadline = Date.now() + 150_000;
  while (!/incasso listening on/.test(out)) {
    assert.equal(child.exitCode, null, `incasso serve exited:\n${out}\n${err}`);
    assert.ok(Date.now() < deadline, `incasso serve did not listen within 150 s:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const hub = {
    stdout: () => out,
    stderr: () => err,
    async stop() {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('incasso serve did not exit within 60 s of SIGTERM')), 60_000);
      });
      try {
        return await Promise.race([exited, stuck]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
  started.push(hub);
  return hub;
}

async function freshInstallation(prefix: string) {
  const db = await durableHubDatabase(prefix);
  cleanups.push(db.drop);
  // On PostgreSQL the data directory still holds the generated keys.
  const dataDir = db.env.INCASSO_DATA_DIR ?? mkdtempSync(join(tmpdir(), `incasso-${prefix}-keys-`));
  if (!db.env.INCASSO_DATA_DIR) cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  return { env: { ...db.env, INCASSO_DATA_DIR: dataDir }, pgUrl: db.pgUrl };
}

describe('the first start lets the operator into the console', () => {
  it('prints one line with a one-time link; the link sets the password in Chromium, the operator logs in; a restart prints none', () =>
    telling(async () => {
      const { env } = await freshInstallation('first_start');
      const port = await stablePort();
      const hub = await serve({ ...env, PORT: String(port) });
      const lines = hub.stdout().split('\n').filter(Boolean);
      const linkLines = lines.filter((l) => l.includes('/console/set-password'));
      assert.equal(linkLines.length, 1, hub.stdout());
      const m = LINK_LINE.exec(linkLines[0]!);
      assert.ok(m, linkLines[0]);
      const [, email, link] = m as unknown as [string, string, string];
      assert.equal(email, 'operator@localhost');
      assert.equal(new URL(link).origin, `http://127.0.0.1:${port}`);
      const token = new URL(link).searchParams.get('token')!;
      // The link is the only place the token appears (no structured log line repeats it).
      assert.equal((hub.stdout() + hub.stderr()).split(token).length - 1, 1, 'the token is printed once');

      browser ??= await launchBrowser();
      const context = await browser.newContext({ locale: 'en-US' });
      const page = await context.newPage();
      page.setDefaultTimeout(45_000);
      const problems: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(msg.text());
      });
      await page.goto(link);
      assert.match(await page.locator('main').innerText(), /Choose a password for operator@localhost/);
      assert.deepEqual(await seriousViolations(page), []);
      await page.getByLabel('New password').fill('the first operator password');
      await page.getByLabel('Repeat the password').fill('the first operator password');
      await page.getByRole('button', { name: 'Save the password' }).click();
      await page.getByRole('link', { name: 'Go to the login page' }).click();
      await page.getByLabel('E-mail').fill('operator@localhost');
      await page.getByLabel('Password').fill('the first operator password');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL((u) => u.pathname.startsWith('/console/') && !u.pathname.endsWith('/login'));
      assert.match(await page.locator('header').innerText(), /Signed in as operator@localhost \(operator\)/);
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Operator' }).click();
      assert.equal(await page.locator('h1').innerText(), 'Hub health');
      // The link worked once.
      await page.goto(link);
      assert.match(await page.locator('main').innerText(), /not valid any more/);
      assert.deepEqual(
        problems.filter((p) => !p.startsWith('Failed to load resource')),
        [],
      );
      await context.close();

      assert.equal(await hub.stop(), 0);
      const again = await serve({ ...env, PORT: String(port) });
      assert.doesNotMatch(again.stdout(), /Console operator|set-password/, 'a restart prints no link');
      assert.equal(await again.stop(), 0);
    }));

  it('several processes starting together on one fresh PostgreSQL database make one operator and one link', { skip: NEEDS_POSTGRES }, () =>
    telling(async () => {
      assert.ok(ON_POSTGRES);
      const { env, pgUrl } = await freshInstallation('first_start_many');
      const ports = await Promise.all([stablePort(), stablePort(), stablePort()]);
      const email = 'ops@hub.example.ro';
      const hubs = await Promise.all(ports.map((port) => serve({ ...env, PORT: String(port), INCASSO_OPERATOR_EMAIL: email })));
      const links = hubs.flatMap((h) =>
        h
          .stdout()
          .split('\n')
          .filter((l) => l.includes('/console/set-password')),
      );
      assert.equal(links.length, 1, links.join('\n'));
      assert.equal(LINK_LINE.exec(links[0]!)?.[1], email);
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      try {
        const operators = await client.query(`SELECT email FROM users WHERE role = 'operator'`);
        assert.deepEqual(
          operators.rows.map((r) => r.email),
          [email],
        );
        assert.equal((await client.query(`SELECT count(*)::int AS n FROM user_password_tokens`)).rows[0].n, 1);
      } finally {
        await client.end();
      }
      for (const h of hubs) assert.equal(await h.stop(), 0);
    }),
  );
});
