import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cacheSlot, HubCaches } from '../../src/services/hub-caches.js';
import type { Db } from '../../src/store/store.js';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';

/**
 * What a hub remembers between requests hangs on the hub (`HubContext.caches`), not on a module: two hubs in one
 * process share nothing, and no service keeps a module-level Map or Set of its own.
 */

const root = new URL('../../', import.meta.url).pathname;
function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) sources(path, out);
    else if (path.endsWith('.ts')) out.push(path);
  }
  return out;
}

describe('the hub’s memory', () => {
  it('a slot’s value is made once per hub, from that hub’s database, and never shared between hubs', () => {
    const made: unknown[] = [];
    const slot = cacheSlot('test slot', (db) => {
      made.push(db);
      return new Map<string, number>();
    });
    const dbA = { name: 'a' } as unknown as Db;
    const dbB = { name: 'b' } as unknown as Db;
    const a = new HubCaches(dbA);
    const b = new HubCaches(dbB);
    a.of(slot).set('k', 1);
    assert.equal(a.of(slot).get('k'), 1);
    assert.equal(b.of(slot).get('k'), undefined);
    assert.equal(a.of(slot), a.of(slot));
    assert.deepEqual(made, [dbA, dbB]);
  });

  it('no service keeps a module-level Map, Set or WeakMap (they hang on the hub)', () => {
    // Allowed, with the reason: the unit of work's registry is keyed by a live transaction object and empties with
    // it; a verification thread's cache belongs to the thread (the pool is the hub's).
    const allowed = new Set(['src/services/unit-of-work.ts', 'src/services/verify-worker.ts']);
    // Constant lookup tables (UPPER_CASE, filled once where they are declared) are not memory.
    const moduleLevel = /^(?:export\s+)?(?:const|let)\s+(?![A-Z0-9_]+\b)\w+(?:\s*:[^=]+)?\s*=\s*new\s+(?:Map|Set|WeakMap|WeakSet)\b/m;
    const offenders = sources('src/services').filter((f) => !allowed.has(f) && moduleLevel.test(readFileSync(join(root, f), 'utf8')));
    assert.deepEqual(offenders, []);
  });
});

describe('two hubs in one process', () => {
  let one: TestHub;
  let two: TestHub;
  before(async () => {
    one = await startTestHub();
    two = await startTestHub();
  });
  after(async () => {
    await one?.close();
    await two?.close();
  });

  it('each remembers its own connections and API keys', async () => {
    for (const hub of [one, two]) {
      const admin = apiClient(hub.url, hub.adminKey);
      const merchant = await admin('POST', '/v1/merchants', { name: 'Shop' });
      assert.equal(merchant.status, 201, JSON.stringify(merchant.body));
      const me = await apiClient(hub.url, merchant.body.api_key)('GET', '/v1/payments');
      assert.equal(me.status, 200);
    }
    assert.notEqual(one.ctx.caches, two.ctx.caches);
  });
});
