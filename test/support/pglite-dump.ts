// Makes the migrated PGlite database the test stores start from (see openTestStore): creates an in-memory PGlite,
// applies every migration and writes PGlite's dump of it to the path given. scripts/test.mjs runs it once per run.
import { writeFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import { migrate } from '../../src/store/migrations.js';
import { PGlitePool } from '../../src/store/pglite-pool.js';
import type { Database } from '../../src/store/schema.js';

const out = process.argv[2];
if (!out) throw new Error('usage: pglite-dump.ts <file>');
const pglite = new PGlite();
await pglite.waitReady;
const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new PGlitePool(pglite) }) });
await migrate(db);
const dumped = await pglite.dumpDataDir('none');
writeFileSync(out, Buffer.from(await dumped.arrayBuffer()));
await db.destroy();
