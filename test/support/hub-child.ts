// One hub in its own process, configured exactly like production: from the environment, through readConfig
// (PORT, INCASSO_PUBLIC_URL, DATABASE_URL or INCASSO_DATA_DIR, INCASSO_MASTER_KEY, INCASSO_ADMIN_KEY,
// INCASSO_EMULATORS, INCASSO_WORKER_POLL_MS, INCASSO_WEBHOOK_RETRY_SCALE, INCASSO_DB_POOL_SIZE, LOG_LEVEL).
// The resilience tests start it with `node --import tsx`, kill it with SIGKILL and start it again.
//
// Logs are JSON lines on stderr. Over the IPC channel it sends {type:'ready', url, pid, store} once listening,
// and answers {type:'sql', id, text} with {type:'sql', id, rows} (read-only checks the tests make on a PGlite
// data directory only this process can open). SIGTERM/SIGINT or the parent going away close it politely.
import { sql } from 'kysely';
import { readConfig } from '../../src/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { startHub, type RunningHub } from '../../src/server.js';

const send = (message: unknown) => {
  if (process.send && process.connected) process.send(message);
};

let hub: RunningHub | undefined;
let closing: Promise<void> | undefined;

function shutdown(code: number): Promise<void> {
  closing ??= (async () => {
    try {
      await hub?.close();
    } catch (e) {
      process.stderr.write(`hub close failed: ${(e as Error).message}\n`);
      code = code || 1;
    }
    process.exit(code);
  })();
  return closing;
}

process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
process.on('disconnect', () => void shutdown(0));

process.on('message', (raw) => {
  const message = raw as { type: string; id?: number; text?: string };
  if (message.type === 'sql') {
    if (!hub) return send({ type: 'sql', id: message.id, error: 'hub not started' });
    sql
      .raw(message.text ?? '')
      .execute(hub.store.db)
      .then((r) => send({ type: 'sql', id: message.id, rows: r.rows }))
      .catch((e: Error) => send({ type: 'sql', id: message.id, error: e.message }));
  }
});

try {
  const config = readConfig(process.env);
  const logger = createLogger(config.logLevel, process.stderr);
  hub = await startHub(config, { logger });
  send({ type: 'ready', url: hub.url, pid: process.pid, store: hub.store.kind });
} catch (e) {
  process.stderr.write(`hub failed to start: ${(e as Error).stack ?? e}\n`);
  await shutdown(1);
}
