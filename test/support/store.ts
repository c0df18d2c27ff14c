import { randomBytes } from 'node:crypto';
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

/** A fresh, migrated store. */
export function openTestStore(): Promise<Store> {
  return openStore(freshStoreOptions());
}
