import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VerifyPool, type VerifyTarget } from '../../src/services/verify-pool.js';
import { Secret } from '../../src/security/secret.js';
import { ALIAS, MAC_KEY, posted, result } from '../connectors/nexi/support.js';

const nexi = (id: string): VerifyTarget => ({
  id,
  provider: 'nexi',
  stamp: 1,
  credentials: new Secret(JSON.stringify({ alias: ALIAS, mac_key: MAC_KEY })),
  settings: {},
  environment: 'sandbox',
  endpoint: 'https://int-ecommerce.nexi.it',
});

describe('the verification pool (piscina)', () => {
  const pool = new VerifyPool(1, new URL('../support/dying-verify-worker.mjs', import.meta.url));
  after(() => pool.close());

  it('a thread that dies fails the requests it held (the processor is asked to retry); a new thread takes the next ones', async () => {
    assert.equal((await pool.verify(nexi('con_a'), posted(result()))).ok, true);
    // A thread holds up to 16 queued notifications (concurrentTasksPerWorker): those it held when it died fail with
    // it, as with any crash; the notifications are stored, so the processor's retry or the reprocess janitor applies them.
    const [dying, held] = await Promise.allSettled([pool.verify(nexi('die'), posted(result())), pool.verify(nexi('con_b'), posted(result()))]);
    assert.equal(dying.status, 'rejected');
    assert.match(String((dying as PromiseRejectedResult).reason), /verification failed/);
    if (held.status === 'rejected') assert.match(String(held.reason), /verification failed/);
    // The next ones go to the thread that took its place.
    assert.equal((await pool.verify(nexi('con_c'), posted(result()))).ok, true);
    assert.equal((await pool.verify(nexi('con_d'), posted(result({ mac: '0'.repeat(40) })))).ok, false);
  });

  it('gives the thread the whole notification: a result in the query string alone verifies', async () => {
    const query = new URLSearchParams(result()).toString();
    assert.equal((await pool.verify(nexi('con_d'), { body: Buffer.alloc(0), headers: {}, query })).ok, true);
  });
});
