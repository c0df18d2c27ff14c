// The PGlite data directory: private modes, and one process at a time.
//
// PGlite is PostgreSQL compiled to WebAssembly; it keeps no postmaster.pid of its own that another process would
// honour, so two processes on one directory each open it, each keeps its own buffers and WAL position, and the
// one that writes last overwrites what the other acknowledged. The hub therefore takes an exclusive lock file in
// the directory before PGlite opens it.
//
// Why a lock file and not flock(2): Node has no flock without a native module. The lock file is made with
// link(2) from a fully written temporary file, which is atomic and never exposes a half-written lock; it names
// its holder (pid, host, boot id, start time), so a lock left by a process that died (SIGKILL, power cut) is
// recognised as stale on the same host (the pid is gone, or the machine has rebooted since) and taken over.
// A lock of another host is never taken over: the hub cannot tell whether that process runs.
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const LOCK_FILE = 'incasso.lock';

/** A start-up failure that is the operator's to fix: the CLI prints its message as one line, without a stack. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export class DataDirLockedError extends StartupError {
  override name = 'DataDirLockedError';
}

interface LockHolder {
  pid: number;
  hostname: string;
  boot_id: string | null;
  started_at: string;
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid <= 0 || typeof v.hostname !== 'string' || typeof v.started_at !== 'string') return null;
    return { pid: v.pid, hostname: v.hostname, boot_id: typeof v.boot_id === 'string' ? v.boot_id : null, started_at: v.started_at };
  } catch {
    return null;
  }
}

/** Lock files this process holds (by path): a lock naming our own pid that is not in here was left by a dead
 * process that had our pid (a container restarted after a crash runs as pid 1 again). */
const heldHere = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the holder named in a lock file certainly no longer runs. */
function isStale(holder: LockHolder | null, path: string): boolean {
  // Unreadable content cannot come from a hub (the file appears only once fully written): not a live lock.
  if (!holder) return true;
  if (holder.hostname !== hostname()) return false;
  const boot = bootId();
  if (boot && holder.boot_id && boot !== holder.boot_id) return true;
  if (holder.pid === process.pid) return !heldHere.has(path);
  return !processAlive(holder.pid);
}

function describe(dir: string, holder: LockHolder): string {
  const where = holder.hostname === hostname() ? '' : ` on host ${holder.hostname}`;
  return (
    `the data directory ${dir} is in use by another incasso process (pid ${holder.pid}${where}, started ${holder.started_at}): ` +
    `stop that process first, or set INCASSO_DATA_DIR to another directory (to run several processes, use PostgreSQL: DATABASE_URL)` +
    (where ? `; if that host no longer runs it, delete ${join(dir, LOCK_FILE)}` : '')
  );
}

export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. Safe to call more than once. */
  release(): void;
}

/**
 * Takes the exclusive lock on `dir` (which must exist), or throws DataDirLockedError naming the holder. A stale
 * lock (its process is gone) is taken over. Released by `release()`, and on process exit if still held.
 */
export function lockDataDir(dir: string): DataDirLock {
  const path = join(dir, LOCK_FILE);
  const content =
    JSON.stringify({ pid: process.pid, hostname: hostname(), boot_id: bootId(), started_at: new Date().toISOString() } satisfies LockHolder) + '\n';
  const temp = join(dir, `${LOCK_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    for (let round = 0; ; round++) {
      try {
        linkSync(temp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let seen: string;
      try {
        seen = readFileSync(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: try again
        throw e;
      }
      const holder = parseHolder(seen);
      if (!isStale(holder, path) || round >= 5) {
        throw new DataDirLockedError(
          holder
            ? describe(dir, holder)
            : `the data directory ${dir} is locked (${path}) and the lock could not be taken over: stop the other incasso process, or delete the file if none runs`,
        );
      }
      // Take the stale lock over without ever removing a live one: move it aside atomically, and check that what
      // was moved is the stale lock just read. If another starter replaced it in between, put its lock back.
      const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
      try {
        renameSync(path, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const moved = readFileSync(aside, 'utf8');
      if (moved !== seen) {
        try {
          linkSync(aside, path);
        } catch {
          // someone else locked meanwhile; the next round reads their lock
        }
      }
      unlinkSync(aside);
    }
  } finally {
    unlinkSync(temp);
  }
  heldHere.add(path);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    heldHere.delete(path);
    process.removeListener('exit', release);
    try {
      // Only our own lock: never remove one a later process took over (after it judged us dead).
      if (readFileSync(path, 'utf8') === content) unlinkSync(path);
    } catch {
      // already gone
    }
  };
  // process.exit() without close (a fatal error) still releases; SIGKILL leaves a stale lock for the next start.
  process.on('exit', release);
  return { path, release };
}

/**
 * Creates `dir` (0700) if missing and removes group and other permissions from it and everything under it.
 * Returns the paths whose modes were tightened, and whether the directory itself was open to others (then what
 * is inside was readable: an older version's data directory, or a copy).
 */
export function makePrivateDir(dir: string): { tightened: string[]; exposed: boolean } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tightened: string[] = [];
  const exposed = (lstatSync(dir).mode & 0o077) !== 0;
  const walk = (path: string) => {
    let st;
    try {
      st = lstatSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // removed meanwhile (a temporary file)
      throw e;
    }
    if (st.isSymbolicLink()) return; // chmod would follow it out of the directory
    if (st.mode & 0o077) {
      chmodSync(path, st.mode & 0o7700);
      tightened.push(path);
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return { tightened, exposed };
}

/**
 * Makes every file this process creates from now on private to its user (umask 077). PGlite's Node file system
 * layer creates each file 0777 and then sets the mode PostgreSQL asked for with chmod, which no umask limits:
 * 0600 for relation files and WAL, 0644 for a few catalog caches, and 0666 for the files of the initial
 * database it unpacks. So the data directory itself is 0700 (nothing under it is reachable by other accounts,
 * whatever the files' own modes), the umask covers the instant between create and chmod, and the store tightens
 * every file after PGlite opened and after it closed (see openStore), so no file is left with group or other bits.
 * The umask is process-wide and stays: the hub creates nothing that others should read.
 */
export function restrictUmask(): void {
  process.umask(process.umask() | 0o077);
}
