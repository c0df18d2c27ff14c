import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { InboundNotification, NotificationVerdict } from '../connectors/types.js';
import type { LoadedConnection } from './connections.js';
import type { VerifyRequest, VerifyResponse } from './verify-worker.js';

/**
 * Spreads notification verification over worker threads. Opening a NETOPIA v1 envelope is an RSA-2048
 * private operation and reading it an XML parse: CPU work that would otherwise serialize every
 * notification on the main thread, which must stay free for HTTP and the database.
 */
export class VerifyPool {
  private readonly workers: Array<{ worker: Worker; inFlight: number }> = [];
  private readonly pending = new Map<number, { resolve: (v: NotificationVerdict) => void; reject: (e: Error) => void; slot: number }>();
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number = availableParallelism()) {
    for (let i = 0; i < size; i++) this.workers.push({ worker: this.spawn(i), inFlight: 0 });
  }

  private spawn(slot: number): Worker {
    const worker = new Worker(new URL('./verify-worker-boot.mjs', import.meta.url));
    worker.unref();
    worker.on('message', (m: VerifyResponse) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.workers[p.slot]!.inFlight--;
      if ('verdict' in m) p.resolve(m.verdict);
      else p.reject(new Error(`verification failed: ${m.error}`));
    });
    const fail = (e: Error) => {
      // A thread that dies takes its requests with it; they fail (the processor is asked to retry) and a
      // new thread takes the slot.
      for (const [id, p] of this.pending) {
        if (p.slot !== slot) continue;
        this.pending.delete(id);
        p.reject(e);
      }
      if (this.closed) return;
      this.workers[slot] = { worker: this.spawn(slot), inFlight: 0 };
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.workers[slot]?.worker === worker && !this.closed) fail(new Error(`verification thread exited with code ${code}`));
    });
    return worker;
  }

  /** Verifies one notification for a loaded connection on the least busy thread. */
  verify(connection: LoadedConnection, credentialsJson: string, n: InboundNotification): Promise<NotificationVerdict> {
    if (this.closed) return Promise.reject(new Error('the verification pool is closed'));
    let slot = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.workers[i]!.inFlight < this.workers[slot]!.inFlight) slot = i;
    const id = this.nextId++;
    const request: VerifyRequest = {
      id,
      provider: connection.row.provider,
      connection: {
        id: connection.row.id,
        stamp: new Date(connection.row.updated_at).getTime(),
        credentials: credentialsJson,
        settings: connection.row.settings,
        environment: connection.config.environment,
        endpoint: connection.config.endpoint,
      },
      body: n.body,
      contentType: n.contentType,
      headers: n.headers,
    };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      this.workers[slot]!.inFlight++;
      this.workers[slot]!.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new Error('the verification pool is closed'));
    this.pending.clear();
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
