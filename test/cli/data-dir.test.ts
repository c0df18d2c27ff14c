// `incasso serve` as an operator runs it, in real processes (issue 14, findings 2, 7 and 16): one hub per PGlite
// data directory, one line (not a stack) when the directory or the port is taken, private files, and the operator
// key saved but never printed. The data directory lock is PGlite only (on PostgreSQL several processes share the
// database): those tests are skipped on the PostgreSQL run; the port, modes and key tests run on both stores.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiClient } from '../support/hub.js';
import { HubProcess, stablePort } from '../support/hub-process.js';
import { durableHubDatabase, FIXED_KEYS, hubEnv, ON_POSTGRES } from '../support/resilience.js';

const BIN = fileURLToPath(new URL('../../bin/incasso.js', import.meta.url));
const PGLITE_ONLY = ON_POSTGRES ? 'the data directory lock is PGlite only' : false;

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Serve {
  pid: number;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resolves once it printed its "listening" line; rejects if it exits first. */
  listening: Promise<void>;
  stop(): Promise<number | null>;
}

/** `incasso serve` with exactly this environment (plus PATH and HOME), as an operator starts it. */
function serve(env: Record<string, string>): Serve {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', INCASSO_VERIFY_THREADS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = new Promise<void>((resolve, reject) => {
    // A hub that neither listens nor exits within two minutes fails this test with what it printed, instead of
    // hanging the file until the runner's ten-minute limit.
    const deadline = setTimeout(() => {
      clearInterval(timer);
      child.kill('SIGKILL');
      reject(new Error(`incasso serve neither listened nor exited within 120 s:\n${out}\n${err}`));
    }, 120_000);
    deadline.unref();
    void exited.then(() => clearTimeout(deadline));
    const timer = setInterval(() => {
      if (/incasso listening on/.test(out)) {
        clearInterval(timer);
        clearTimeout(deadline);
        resolve();
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`incasso serve exited (${code}) before listening:\n${out}\n${err}`));
    });
  });
  listening.catch(() => {});
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    exited,
    listening,
    async stop() {
      child.kill('SIGTERM');
      // A hub that does not stop on SIGTERM within a minute is a failure, reported with what it printed.
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await exited;
      clearTimeout(timer);
      if (child.signalCode === 'SIGKILL') throw new Error(`incasso serve did not stop on SIGTERM within 60 s:\n${out}\n${err}`);
      return code;
    },
  };
}

/** Files and directories under `dir` (itself included) that group or others may read, write or enter. */
function openToOthers(dir: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if (st.mode & 0o077) found.push(`${(st.mode & 0o777).toString(8)} ${path}`);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return found;
}

async function databaseEnv(prefix: string): Promise<{ env: Record<string, string>; dataDir: string }> {
  const db = await durableHubDatabase(prefix);
  cleanups.push(db.drop);
  // On PostgreSQL the data directory still holds the generated keys.
  const dataDir = db.env.INCASSO_DATA_DIR ?? mkdtempSync(join(tmpdir(), `incasso-${prefix}-keys-`));
  if (!db.env.INCASSO_DATA_DIR) cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  return { env: { ...db.env, INCASSO_DATA_DIR: dataDir }, dataDir };
}

describe('one hub per PGlite data directory', { skip: PGLITE_ONLY }, () => {
  it('a second hub on a running hub’s data directory is refused in one line, and the first hub loses nothing', async () => {
    const { env: database, dataDir } = await databaseEnv('dd_lock');
    const first = new HubProcess(hubEnv({ port: await stablePort(), database, extra: { INCASSO_EMULATORS: '0', INCASSO_VERIFY_THREADS: '1' } }), 'first');
    cleanups.push(() => first.stop());
    await first.start(180_000);
    const admin = apiClient(first.url, FIXED_KEYS.INCASSO_ADMIN_KEY);
    const before = await admin('POST', '/v1/merchants', { name: 'Created before' });
    assert.equal(before.status, 201);

    // The same command an operator would type in a second terminal, on another port.
    const secondPort = await stablePort();
    const second = serve({ ...FIXED_KEYS, PORT: String(secondPort), INCASSO_EMULATORS: '0', ...database });
    const code = await Promise.race([second.exited, second.listening.then(() => 'listening' as const)]);
    assert.equal(code, 1, `exit code; stdout:\n${second.stdout()}\nstderr:\n${second.stderr()}`);
    const lines = second.stderr().split('\n').filter(Boolean);
    assert.equal(lines.length, 1, `one line, got:\n${second.stderr()}`);
    assert.match(
      lines[0]!,
      new RegExp(
        `^incasso: the data directory ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another incasso process \\(pid ${first.pid}, started \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\): stop that process first, or set INCASSO_DATA_DIR`,
      ),
    );
    assert.equal(second.stdout(), '');
    await assert.rejects(fetch(`http://127.0.0.1:${secondPort}/healthz`), 'the second hub never listened');
    assert.equal(JSON.parse(readFileSync(join(dataDir, 'incasso.lock'), 'utf8')).pid, first.pid, 'the lock is still the first hub’s');

    // The first hub keeps serving writes, and after a restart everything acknowledged is there.
    const during = await admin('POST', '/v1/merchants', { name: 'Created after the refusal' });
    assert.equal(during.status, 201);
    await first.stop();
    assert.ok(!existsSync(join(dataDir, 'incasso.lock')), 'SIGTERM released the lock');
    await first.start(180_000);
    const names = ((await admin('GET', '/v1/merchants')).body.data as Array<{ name: string }>).map((m) => m.name);
    assert.ok(names.includes('Created before') && names.includes('Created after the refusal'), JSON.stringify(names));

    // A hub killed outright (SIGKILL: no cleanup) leaves its lock; the next start sees the process is gone.
    const killedPid = first.pid;
    await first.kill();
    assert.equal(JSON.parse(readFileSync(join(dataDir, 'incasso.lock'), 'utf8')).pid, killedPid);
    await first.start(180_000);
    assert.equal(JSON.parse(readFileSync(join(dataDir, 'incasso.lock'), 'utf8')).pid, first.pid);
    assert.equal((await admin('GET', '/v1/merchants')).body.data.length, names.length);
    await first.stop();
  });
});

describe('incasso serve on both stores', () => {
  let blocker: Server | undefined;
  after(() => blocker?.close());

  it('a port already in use is one line and a non-zero exit, and the data directory is let go', async () => {
    const { env: database, dataDir } = await databaseEnv('dd_port');
    blocker = createServer();
    const port = await stablePort();
    await new Promise<void>((resolve) => blocker!.listen(port, '127.0.0.1', () => resolve()));
    const hub = serve({ ...FIXED_KEYS, PORT: String(port), INCASSO_EMULATORS: '0', ...database });
    assert.equal(await Promise.race([hub.exited, hub.listening.then(() => 'listening' as const)]), 1, hub.stderr());
    assert.equal(
      hub.stderr(),
      `incasso: port ${port} on 127.0.0.1 is already in use (another incasso or another program): stop it, or set PORT to another port\n`,
    );
    assert.ok(!existsSync(join(dataDir, 'incasso.lock')), 'no lock left behind');
  });

  it('first start: the operator key is saved (0600) but not printed; the data directory and everything in it are private', async () => {
    const { env: database, dataDir } = await databaseEnv('dd_modes');
    // An existing directory left open by an older version, with a file in it.
    chmodSync(dataDir, 0o755);
    mkdirSync(join(dataDir, 'notes'), { mode: 0o777 });
    chmodSync(join(dataDir, 'notes'), 0o777);
    writeFileSync(join(dataDir, 'notes', 'todo.txt'), 'x', { mode: 0o666 });
    chmodSync(join(dataDir, 'notes', 'todo.txt'), 0o666);
    const port = await stablePort();
    const hub = serve({ PORT: String(port), INCASSO_EMULATORS: '0', LOG_LEVEL: 'warn', ...database });
    await hub.listening;
    const keyFile = join(dataDir, 'admin.key');
    const key = readFileSync(keyFile, 'utf8').trim();
    assert.match(key, /^adm_/);
    assert.ok(!hub.stdout().includes(key) && !hub.stderr().includes(key), 'the key is not printed');
    assert.ok(hub.stdout().includes(`Operator key created and saved in ${keyFile} (mode 0600)`), hub.stdout());
    assert.match(hub.stdout(), /the data directory was open to other users/);
    assert.equal(lstatSync(keyFile).mode & 0o777, 0o600);
    // The key works (it is the one the CLI will read).
    assert.equal((await apiClient(`http://127.0.0.1:${port}`, key)('GET', '/v1/merchants')).status, 200);
    assert.deepEqual(openToOthers(dataDir), [], 'while running');
    assert.equal(await hub.stop(), 0);
    assert.deepEqual(openToOthers(dataDir), [], 'after a clean stop');
    assert.ok(!existsSync(join(dataDir, 'incasso.lock')));
    // A second start does not announce anything about the key again.
    const again = serve({ PORT: String(port), INCASSO_EMULATORS: '0', LOG_LEVEL: 'warn', ...database });
    await again.listening;
    assert.doesNotMatch(again.stdout(), /Operator key/);
    assert.doesNotMatch(again.stdout(), /open to other users/);
    assert.deepEqual(openToOthers(dataDir), []);
    assert.equal(await again.stop(), 0);
  });
});
