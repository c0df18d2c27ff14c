import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { openStore, type Store } from '../../src/store/store.js';

/** Which storage this test run uses: the runner (scripts/test.mjs) runs every file on both. */
export const TEST_STORE: 'pglite' | 'postgres' = process.env.INCASSO_TEST_STORE === 'postgres' ? 'postgres' : 'pglite';

/** Store options for a fresh, empty database: in-memory PGlite, or a new schema in the run's PostgreSQL database. */
export function freshStoreOptions(): { databaseUrl?: string; schema?: string } {
  if (TEST_STORE === 'postgres') {
    const databaseUrl = process.env.INCASSO_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    return { databaseUrl, schema: `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}` };
  }
  return {};
}

/**
 * PGlite: the migrated database the runner dumped once for this run (INCASSO_TEST_PGLITE_DUMP, made by
 * test/support/pglite-dump.ts), read once per process. Each store starts from its own copy, so the tests share
 * nothing but the start; without it (a file run on its own) every store is created and migrated afresh.
 */
let dump: Blob | undefined;
function pgliteDump(): Blob | undefined {
  const path = process.env.INCASSO_TEST_PGLITE_DUMP;
  if (TEST_STORE !== 'pglite' || !path || !existsSync(path)) return undefined;
  dump ??= new Blob([readFileSync(path)]);
  return dump;
}

/** A fresh, migrated store. */
export function openTestStore(): Promise<Store> {
  const from = pgliteDump();
  return openStore(from ? { pgliteDump: from } : freshStoreOptions());
}
