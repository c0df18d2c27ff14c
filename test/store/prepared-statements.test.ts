import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/store.js';
import { freshStoreOptions } from '../support/store.js';
import { NEEDS_POSTGRES } from '../support/resilience.js';

/**
 * PostgreSQL connections prepare each query text once (a named statement) and reuse it. One pooled connection
 * here, so every query runs in the session whose pg_prepared_statements the test reads.
 */
describe('named prepared statements on PostgreSQL', { skip: NEEDS_POSTGRES }, () => {
  let store: Store;
  let options: { databaseUrl?: string; schema?: string };
  before(async () => {
    options = freshStoreOptions();
    store = await openStore({ ...options, poolSize: 1 });
  });
  after(() => store?.close());

  const prepared = async () => (await sql<{ name: string; statement: string }>`SELECT name, statement FROM pg_prepared_statements`.execute(store.db)).rows;

  it('parses a query text once per connection and reuses it, whatever the values', async () => {
    for (const name of ['Alfa', 'Beta', 'Gamma']) await store.db.selectFrom('merchants').select('id').where('name', '=', name).execute();
    const mine = (await prepared()).filter((p) => p.statement.includes('from "merchants" where "name" = $1'));
    assert.equal(mine.length, 1, JSON.stringify(mine));
    assert.match(mine[0]!.name, /^incasso_[A-Za-z0-9_-]{22}$/);
  });

  it('drops a connection whose statement outlived a change of its table, and the next query prepares afresh', async () => {
    await sql`CREATE TABLE shape_change (a int)`.execute(store.db);
    await sql`INSERT INTO shape_change VALUES (1)`.execute(store.db);
    const read = () => sql<{ a: number; b?: number }>`SELECT * FROM shape_change`.execute(store.db);
    await read();
    // Another process (a newer version's migration) changes the table.
    const other = new pg.Client({ connectionString: options.databaseUrl, options: `-c search_path=${options.schema}` });
    await other.connect();
    try {
      await other.query('ALTER TABLE shape_change ADD COLUMN b int DEFAULT 2');
    } finally {
      await other.end();
    }
    await assert.rejects(read(), (e: Error & { code?: string }) => e.code === '0A000' && /cached plan/.test(e.message));
    assert.deepEqual((await read()).rows, [{ a: 1, b: 2 }]);
  });

  it('sends texts unnamed when turned off', async () => {
    const plain = await openStore({ ...freshStoreOptions(), poolSize: 1, preparedStatements: false });
    try {
      await plain.db.selectFrom('merchants').select('id').execute();
      const rows = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_prepared_statements`.execute(plain.db)).rows;
      assert.equal(rows[0]!.n, 0);
    } finally {
      await plain.close();
    }
  });
});
