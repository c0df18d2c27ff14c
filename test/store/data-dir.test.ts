// The PGlite data directory lock and its private modes, in-process (issue 14, findings 2 and 7). The lock is a
// PGlite matter: on PostgreSQL (DATABASE_URL) several processes share one database and no data directory lock is
// taken, so these checks run the same on both store runs. The hub processes themselves: test/cli/data-dir.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLockedError, LOCK_FILE, lockDataDir, makePrivateDir } from '../../src/store/data-dir.js';

const freshDir = () => mkdtempSync(join(tmpdir(), 'incasso-lock-'));

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

const lockText = (over: Record<string, unknown>) =>
  JSON.stringify({ pid: process.pid, hostname: hostname(), boot_id: null, started_at: '2026-01-01T00:00:00.000Z', ...over }) + '\n';

describe('the data directory lock', () => {
  it('a second lock on a held directory is refused with one line naming the holder and what to do', () => {
    const dir = freshDir();
    const lock = lockDataDir(dir);
    const holder = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
    assert.equal(holder.pid, process.pid);
    assert.throws(
      () => lockDataDir(dir),
      (e: Error) => {
        assert.ok(e instanceof DataDirLockedError);
        assert.doesNotMatch(e.message, /\n/);
        assert.match(e.message, new RegExp(`in use by another incasso process \\(pid ${process.pid}, started ${holder.started_at}\\)`));
        assert.match(e.message, /stop that process first/);
        return true;
      },
    );
    lock.release();
    assert.ok(!existsSync(join(dir, LOCK_FILE)), 'released on close');
    lockDataDir(dir).release();
    assert.deepEqual(readdirSync(dir), [], 'no temporary files left behind');
  });

  it('takes over the lock of a process that is gone, an unreadable lock, and one naming our own pid that we do not hold', () => {
    for (const stale of [lockText({ pid: deadPid() }), 'garbage', '', lockText({ pid: process.pid })]) {
      const dir = freshDir();
      writeFileSync(join(dir, LOCK_FILE), stale);
      const lock = lockDataDir(dir);
      assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid, `took over ${JSON.stringify(stale)}`);
      lock.release();
      assert.deepEqual(readdirSync(dir), []);
    }
  });

  it('a lock left before the machine rebooted is stale even if its pid runs again', {
    skip: existsSync('/proc/sys/kernel/random/boot_id') ? false : 'no boot id here',
  }, () => {
    const dir = freshDir();
    // pid 1 always runs; a different boot id says it is not the process that took the lock.
    writeFileSync(join(dir, LOCK_FILE), lockText({ pid: 1, boot_id: '00000000-0000-0000-0000-000000000000' }));
    lockDataDir(dir).release();
  });

  it('refuses a live process of this host, and never takes over a lock of another host', () => {
    const live = freshDir();
    writeFileSync(join(live, LOCK_FILE), lockText({ pid: 1 }));
    assert.throws(() => lockDataDir(live), /in use by another incasso process \(pid 1, started/);
    const remote = freshDir();
    const remoteLock = lockText({ pid: deadPid(), hostname: 'elsewhere.example' });
    writeFileSync(join(remote, LOCK_FILE), remoteLock);
    assert.throws(
      () => lockDataDir(remote),
      (e: Error) => /on host elsewhere\.example/.test(e.message) && /delete .*incasso\.lock/.test(e.message),
    );
    assert.equal(readFileSync(join(remote, LOCK_FILE), 'utf8'), remoteLock, 'left as it was');
    assert.deepEqual(readdirSync(remote), [LOCK_FILE]);
  });

  it('release never removes a lock that another process took over meanwhile', () => {
    const dir = freshDir();
    const lock = lockDataDir(dir);
    const other = lockText({ pid: 1, started_at: '2026-02-02T00:00:00.000Z' });
    writeFileSync(join(dir, LOCK_FILE), other);
    lock.release();
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), other);
  });
});

describe('the data directory is private', () => {
  it('is created 0700, and an existing one with looser modes is tightened, everything under it', () => {
    const parent = freshDir();
    const created = join(parent, 'new', 'data');
    const first = makePrivateDir(created);
    assert.equal(statSync(created).mode & 0o777, 0o700);
    assert.equal(first.exposed, false);

    const old = join(parent, 'old');
    mkdirSync(join(old, 'pglite', 'base'), { recursive: true });
    writeFileSync(join(old, 'pglite', 'base', '1234'), 'ledger');
    writeFileSync(join(old, 'master.key'), 'k');
    chmodSync(join(old, 'pglite', 'base', '1234'), 0o666);
    chmodSync(join(old, 'master.key'), 0o644);
    chmodSync(join(old, 'pglite', 'base'), 0o777);
    chmodSync(join(old, 'pglite'), 0o755);
    chmodSync(old, 0o755);
    const fixed = makePrivateDir(old);
    assert.equal(fixed.exposed, true);
    assert.equal(fixed.tightened.length, 5);
    assert.equal(statSync(join(old, 'pglite', 'base', '1234')).mode & 0o777, 0o600);
    assert.equal(statSync(join(old, 'master.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(old, 'pglite', 'base')).mode & 0o777, 0o700);
    assert.equal(statSync(old).mode & 0o777, 0o700);
    assert.deepEqual(makePrivateDir(old), { tightened: [], exposed: false });
  });
});
