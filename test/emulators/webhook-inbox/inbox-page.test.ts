import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../../support/browser.js';
import { serveEmulator, type ServedEmulator } from '../../support/emulator-harness.js';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { registerWebhookInbox } from '../../../emulators/webhook-inbox/index.js';

/**
 * The inbox page fits a 1,280 px window whatever it received: a long event body (a minified JSON line, a long
 * token without a space) wraps inside its column instead of widening the page.
 */

let store: Store;
let served: ServedEmulator;
let browser: Browser;
const secret = `whsec_${randomBytes(24).toString('base64')}`;

/** Posts a body signed with the inbox's secret, as the hub's webhook worker does (Standard Webhooks). */
async function deliver(name: string, body: string): Promise<void> {
  const id = `msg_${randomBytes(8).toString('hex')}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'))
    .update(`${id}.${timestamp}.${body}`)
    .digest('base64');
  const response = await fetch(`${served.origin}/sandbox/inbox/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` },
    body,
  });
  assert.equal(response.status, 200);
}

before(async () => {
  store = await openTestStore();
  served = await serveEmulator(async (app) => {
    await registerWebhookInbox(app, { db: store.db });
    return { stop: async () => {} };
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await served?.stop();
  await store?.close();
});

describe('the webhook inbox page wraps what it shows', () => {
  it('a long event body leaves the page no wider than a 1,280 px window', async () => {
    const token = 'tok_' + 'A1b2C3d4'.repeat(60);
    const event = {
      id: 'evt_0123456789abcdef',
      type: 'payment.paid',
      data: { object: { id: 'pay_0123456789', description: 'Cafea boabe 1kg '.repeat(40), metadata: { token }, amount: 4990, currency: 'RON' } },
    };
    await deliver('wide', JSON.stringify(event));
    await deliver('wide', token.repeat(3)); // not JSON: shown as it came, still wrapped
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await page.goto(`${served.origin}/sandbox/inbox/wide?secret=${encodeURIComponent(secret)}`);
      await page.getByRole('heading', { name: /Webhook inbox/ }).waitFor();
      assert.equal(await page.locator('tbody tr').count(), 2);
      const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, window: window.innerWidth }));
      assert.ok(widths.scroll <= widths.window, `the page is ${widths.scroll} px wide in a ${widths.window} px window`);
      // The JSON body is shown indented, one field a line.
      assert.match((await page.locator('tbody tr').nth(1).locator('pre').textContent()) ?? '', /\n {2}"type": "payment\.paid"/);
    } finally {
      await page.close();
    }
  });
});
