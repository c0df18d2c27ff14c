// Starting a server script (hub-process.ts, echo-process.ts) as a child `node --import tsx` process with an IPC
// channel, waiting for its "ready" message, and stopping it again (politely, then by force).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ServerChild {
  url: string;
  pid: number;
  /** Runs SQL in the child's own store (hub only) and returns the rows. */
  query<R = Record<string, unknown>>(text: string): Promise<R[]>;
  /** Statements the hub has sent to its database so far (hub only). */
  queryCount(): Promise<number>;
  /** The child's `process.memoryUsage()` (hub only). */
  memory(): Promise<NodeJS.MemoryUsage>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Kills whatever is still running (last-resort cleanup on an unexpected exit). */
export function killAllChildren(): void {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function prefixLines(stream: NodeJS.ReadableStream | null, prefix: string, tail: string[]) {
  if (!stream) return;
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (!line) continue;
      tail.push(line);
      if (tail.length > 30) tail.shift();
      process.stderr.write(`  ${prefix} ${line}\n`);
    }
  });
}

export async function startServer(
  script: string,
  env: Record<string, string>,
  label: string,
  nodeArgs: string[] = [],
  readyTimeoutMs = 60_000,
): Promise<ServerChild> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
  });
  live.add(child);
  const tail: string[] = [];
  prefixLines(child.stdout, `[${label}]`, tail);
  prefixLines(child.stderr, `[${label}]`, tail);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );

  const pending = new Map<number, { resolve: (value: any) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const ready = new Promise<{ url: string; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    child.on('message', (raw) => {
      const m = raw as {
        type: string;
        url?: string;
        pid?: number;
        id?: number;
        rows?: unknown[];
        queries?: number;
        memory?: NodeJS.MemoryUsage;
        error?: string;
      };
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve({ url: m.url!, pid: m.pid! });
      } else if (m.type === 'sql' && m.id !== undefined) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error !== undefined) p?.reject(new Error(m.error));
        else p?.resolve(m.rows ?? []);
      } else if (m.type === 'stats' && m.id !== undefined) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        p?.resolve(m.queries ?? NaN);
      } else if (m.type === 'mem' && m.id !== undefined) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        p?.resolve(m.memory);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (code ${code}) before it was ready:\n${tail.join('\n')}`));
      for (const p of pending.values()) p.reject(new Error(`${label} exited`));
    });
  });

  let info: { url: string; pid: number };
  try {
    info = await ready;
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }

  let stopping: Promise<void> | undefined;
  return {
    ...info,
    query(text) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ type: 'sql', id, text });
      });
    },
    queryCount() {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ type: 'stats', id });
      });
    },
    memory() {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ type: 'mem', id });
      });
    },
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        if (child.connected) child.send({ type: 'close' });
        else child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
