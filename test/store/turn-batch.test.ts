import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TurnBatch, TurnQueue } from '../../src/store/turn-batch.js';

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
    assert.deepEqual(
      failed.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    fail = false;
    assert.equal(await batch.load('x'), 'x');
  });
});

describe('TurnQueue: the writes of one event-loop turn in one batch, each failing alone', () => {
  const turn = () => new Promise((r) => setImmediate(r));

  it("sends a turn's items as one batch, in order, splits at maxBatch, and sends a lone item on its own", async () => {
    const batches: number[][] = [];
    const singles: number[] = [];
    const queue = new TurnQueue<number, string>({
      batch: async (items) => (batches.push(items), items.map((i) => `b${i}`)),
      single: async (item) => (singles.push(item), `s${item}`),
      maxBatch: 3,
    });
    assert.deepEqual(await Promise.all([1, 2, 3, 4, 5].map((i) => queue.push(i))), ['b1', 'b2', 'b3', 'b4', 'b5']);
    assert.deepEqual(batches, [
      [1, 2, 3],
      [4, 5],
    ]);
    assert.equal(await queue.push(6), 's6');
    await turn();
    assert.deepEqual(await Promise.all([7, 8, 9, 10].map((i) => queue.push(i))), ['b7', 'b8', 'b9', 's10']);
    assert.deepEqual(singles, [6, 10]);
  });

  it('a failed batch tries every item on its own: the item that broke it fails alone, the others succeed', async () => {
    const queue = new TurnQueue<number, number>({
      batch: async () => {
        throw new Error('duplicate key value violates unique constraint');
      },
      single: async (item) => {
        if (item === 2) throw new Error(`item ${item} is broken`);
        return item * 10;
      },
    });
    const outcomes = await Promise.allSettled([1, 2, 3].map((i) => queue.push(i)));
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message)),
      [10, 'item 2 is broken', 30],
    );
  });

  it('a batch that answers the wrong number of results is not trusted', async () => {
    const queue = new TurnQueue<number, number>({ batch: async (items) => items.slice(1), single: async (item) => -item });
    assert.deepEqual(await Promise.all([1, 2].map((i) => queue.push(i))), [-1, -2]);
  });

  it('never joins a batch already sent: an item pushed while one is in flight goes in the next', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const queue = new TurnQueue<number, number>({
      batch: async (items) => {
        batches.push(items);
        if (batches.length === 1) await gate;
        return items;
      },
    });
    const first = Promise.all([queue.push(1), queue.push(2)]);
    await turn();
    const second = Promise.all([queue.push(3), queue.push(4)]);
    await turn();
    assert.deepEqual(batches, [
      [1, 2],
      [3, 4],
    ]);
    release();
    assert.deepEqual(await Promise.all([first, second]), [
      [1, 2],
      [3, 4],
    ]);
  });
});
