// The parent side of test/support/hub-child.ts: starts a hub as a child process (`node --import tsx`), waits
// for it to listen, kills it (SIGKILL: no cleanup runs, exactly like a power cut or the OOM killer) and starts
// it again with the same configuration, so processors and webhook receivers keep talking to the same URL.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const CHILD_SCRIPT = fileURLToPath(new URL('./hub-child.ts', import.meta.url));

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * This process's environment without anything the hub reads as configuration (HOST, PORT, DATABASE_URL,
 * LOG_LEVEL, INCASSO_*), so a developer's shell settings never leak into a test hub.
 */
function inheritedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'HOST' || k === 'PORT' || k === 'DATABASE_URL' || k === 'LOG_LEVEL' || k === 'NODE_OPTIONS' || k.startsWith('INCASSO_')) continue;
    env[k] = v;
  }
  return env;
}

/**
 * A port that is free now and lies below Linux's ephemeral range (32768-60999), so no outgoing connection of
 * another test takes it while the hub that owns it is down between a kill and a restart.
 */
export async function stablePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port found in 20000-31999');
}

export interface HubProcessEvent {
  at: number;
  what: 'start' | 'ready' | 'kill' | 'exit';
  pid?: number;
  detail?: string;
}

/**
 * One hub "installation": a fixed environment (port, database, keys) and whichever process currently runs it.
 * `start()` and `kill()` may be called any number of times; `stop()` ends it politely.
 */
export class HubProcess {
  child: ChildProcess | undefined;
  /** Every line the processes wrote (stdout and stderr), oldest first, capped. */
  readonly lines: string[] = [];
  /** Lines that failed to parse or logged at level error (50) or above. */
  readonly errorLines: string[] = [];
  readonly history: HubProcessEvent[] = [];
  starts = 0;
  kills = 0;
  private exited: Promise<void> = Promise.resolve();
  private nextSql = 1;
  private readonly pendingSql = new Map<number, { resolve: (rows: any[]) => void; reject: (e: Error) => void }>();

  constructor(
    readonly env: Record<string, string>,
    readonly label = 'hub',
    private readonly options: { echo?: boolean; maxLines?: number } = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.env.PORT}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  private record(line: string) {
    const max = this.options.maxLines ?? 5000;
    this.lines.push(line);
    if (this.lines.length > max) this.lines.splice(0, this.lines.length - max);
    let level = 0;
    try {
      level = (JSON.parse(line) as { level?: number }).level ?? 0;
    } catch {
      level = 60;
    }
    if (level >= 50 && this.errorLines.length < 2000) this.errorLines.push(line);
    if (this.options.echo ?? process.env.INCASSO_RESILIENCE_ECHO === '1') process.stderr.write(`  [${this.label}] ${line}\n`);
  }

  /** Starts a process and resolves once it listens; rejects (with its last lines) if it exits or hangs first. */
  async start(readyTimeoutMs = 60_000): Promise<void> {
    if (this.running) throw new Error(`${this.label} is already running`);
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...inheritedEnv(), ...this.env },
    });
    this.child = child;
    this.starts++;
    live.add(child);
    this.history.push({ at: Date.now(), what: 'start', pid: child.pid });
    for (const stream of [child.stdout!, child.stderr!]) {
      let buffered = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffered += chunk;
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        for (const line of parts) if (line) this.record(line);
      });
    }
    child.on('message', (raw) => {
      const m = raw as { type: string; id?: number; rows?: any[]; error?: string };
      if (m.type === 'sql' && m.id !== undefined) {
        const p = this.pendingSql.get(m.id);
        this.pendingSql.delete(m.id);
        if (m.error !== undefined) p?.reject(new Error(m.error));
        else p?.resolve(m.rows ?? []);
      }
    });
    this.exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        live.delete(child);
        this.history.push({ at: Date.now(), what: 'exit', pid: child.pid, detail: signal ?? `code ${code}` });
        for (const [id, p] of this.pendingSql) {
          this.pendingSql.delete(id);
          p.reject(new Error(`${this.label} exited`));
        }
        resolve();
      }),
    );
    const exitedEarly = this.exited.then(() => {
      throw new Error(`${this.label} exited before it was ready (${child.exitCode ?? child.signalCode}); last lines:\n${this.lines.slice(-30).join('\n')}`);
    });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.label} was not ready within ${readyTimeoutMs} ms; last lines:\n${this.lines.slice(-30).join('\n')}`)),
        readyTimeoutMs,
      );
      child.on('message', (raw) => {
        if ((raw as { type: string }).type === 'ready') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    try {
      await Promise.race([ready, exitedEarly]);
    } catch (e) {
      if (this.running) child.kill('SIGKILL');
      await this.exited;
      throw e;
    }
    exitedEarly.catch(() => {});
    this.history.push({ at: Date.now(), what: 'ready', pid: child.pid });
  }

  /** Starts, retrying a few times when a start fails (e.g. the port is briefly held by the dead process). */
  async startWithRetries(attempts = 5, readyTimeoutMs = 60_000): Promise<void> {
    for (let i = 1; ; i++) {
      try {
        return await this.start(readyTimeoutMs);
      } catch (e) {
        if (i >= attempts) throw e;
        await new Promise((r) => setTimeout(r, 300 * i));
      }
    }
  }

  /** Kills the current process (SIGKILL by default) and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.kills++;
    this.history.push({ at: Date.now(), what: 'kill', pid: child.pid, detail: signal });
    child.kill(signal);
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Runs SQL in the running process's own store (read-only checks; works for a PGlite data directory too). */
  query<R = Record<string, any>>(text: string, timeoutMs = 30_000): Promise<R[]> {
    const child = this.child;
    if (!child || !this.running) return Promise.reject(new Error(`${this.label} is not running`));
    const id = this.nextSql++;
    return new Promise<R[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingSql.delete(id);
        reject(new Error(`${this.label}: SQL timed out`));
      }, timeoutMs);
      this.pendingSql.set(id, {
        resolve: (rows) => {
          clearTimeout(timer);
          resolve(rows as R[]);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.send({ type: 'sql', id, text });
    });
  }
}
