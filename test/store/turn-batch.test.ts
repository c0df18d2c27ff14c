import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TurnBatch } from '../../src/store/turn-batch.js';

describe('TurnBatch: the lookups of one event-loop turn share one query', () => {
  it('answers every lookup of a turn from one fetch of the distinct keys, and absent keys with undefined', async () => {
    const fetches: string[][] = [];
    const batch = new TurnBatch<string, number>(async (keys) => {
      fetches.push(keys);
      return new Map(keys.filter((k) => k !== 'absent').map((k) => [k, k.length]));
    });
    const answers = await Promise.all(['a', 'bb', 'a', 'absent', 'ccc', 'bb'].map((k) => batch.load(k)));
    assert.deepEqual(answers, [1, 2, 1, undefined, 3, 2]);
    assert.deepEqual(fetches, [['a', 'bb', 'absent', 'ccc']]);
  });

  it('never joins a query already sent: a lookup made while one is in flight gets a query of its own', async () => {
    const fetches: string[][] = [];
    let version = 1;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batch = new TurnBatch<string, number>(async (keys) => {
      fetches.push(keys);
      const seen = version; // what the database holds when the query is sent
      if (fetches.length === 1) await gate;
      return new Map(keys.map((k) => [k, seen]));
    });
    const first = batch.load('key');
    await new Promise((r) => setImmediate(r)); // the first query is now in flight
    version = 2; // e.g. the key was rotated
    const second = batch.load('key');
    release();
    assert.deepEqual(await Promise.all([first, second]), [1, 2]);
    assert.equal(fetches.length, 2);
  });

  it('a failed query fails the lookups of its turn only', async () => {
    let fail = true;
    const batch = new TurnBatch<string, string>(async (keys) => {
      if (fail) throw new Error('database unreachable');
      return new Map(keys.map((k) => [k, k]));
    });
    const failed = await Promise.allSettled([batch.load('x'), batch.load('y')]);
    assert.deepEqual(failed.map((r) => r.status), ['rejected', 'rejected']);
    fail = false;
    assert.equal(await batch.load('x'), 'x');
  });
});
