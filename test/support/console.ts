import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { ConsoleSection } from '../../src/http/console/registry.js';
import { SECTIONS } from '../../src/http/console/sections/index.js';
import { apiClient } from './hub.js';

/** Console helpers for tests: users made through the API, passwords set through their one-time link, logins. */

export const PASSWORD = 'a long console password';

/** A form POST as the console's own page would send it (same Origin), with a session cookie when given. */
export function postForm(
  url: string,
  fields: Record<string, string>,
  options: { cookie?: string; origin?: string | null; headers?: Record<string, string> } = {},
) {
  const origin = options.origin === undefined ? new URL(url).origin : options.origin;
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(origin ? { origin } : {}),
      ...(options.cookie ? { cookie: options.cookie } : {}),
      ...options.headers,
    },
    body: new URLSearchParams(fields),
  });
}

/** Sets a password through a one-time link (the set-password form, over HTTP). */
export async function setPasswordByLink(link: string, password = PASSWORD): Promise<void> {
  const token = new URL(link).searchParams.get('token')!;
  const r = await postForm(`${new URL(link).origin}/console/set-password`, { token, password, repeat: password });
  assert.equal(r.status, 200, await r.text());
}

/** A console user with a password: the operator (`merchantId` null) or a merchant's admin or viewer. */
export async function makeUser(
  hubUrl: string,
  adminKey: string,
  email: string,
  role: 'operator' | 'admin' | 'viewer',
  merchantId: string | null,
  language?: string,
) {
  const r = await apiClient(hubUrl, adminKey)('POST', '/v1/users', {
    email,
    role,
    ...(merchantId ? { merchant_id: merchantId } : {}),
    ...(language ? { language } : {}),
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  await setPasswordByLink(r.body.set_password_url);
  return { email, password: PASSWORD, id: r.body.id as string };
}

/** Logs in over HTTP; answers the cookie to send (`incasso_console=…`). */
export async function loginCookie(hubUrl: string, email: string, password = PASSWORD): Promise<string> {
  const r = await postForm(`${hubUrl}/console/login`, { email, password });
  assert.equal(r.status, 303, `login of ${email}: ${r.status}`);
  const cookie = r.headers.get('set-cookie');
  assert.ok(cookie, 'a session cookie');
  return cookie.split(';')[0]!;
}

/**
 * The console's navigation as a role sees it in a language: the sections it may open, in their order. Tests compare
 * the page's navigation with this, so a new section does not break every console test.
 */
export function navFor(role: 'operator' | 'admin' | 'viewer', language: 'en' | 'ro' | 'it' = 'en', sections: readonly ConsoleSection[] = SECTIONS): string[] {
  return [...sections]
    .filter((s) => s.roles.includes(role))
    .sort((a, b) => a.order - b.order)
    .map((s) => s.navLabel(language));
}

/** A merchant made with the operator's key, and its NETOPIA v1 emulator connection (code `netopia`) when asked. */
export async function makeMerchant(
  hubUrl: string,
  adminKey: string,
  name: string,
  options: { netopiaV1?: boolean } = {},
): Promise<{ id: string; key: string }> {
  const r = await apiClient(hubUrl, adminKey)('POST', '/v1/merchants', { name });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const merchant = { id: r.body.id as string, key: r.body.api_key as string };
  if (options.netopiaV1) {
    const c = await apiClient(hubUrl, merchant.key)('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'emulator' });
    assert.equal(c.status, 201, JSON.stringify(c.body));
  }
  return merchant;
}

/** The payer of the console tests' payments (the billing NETOPIA v1 asks for). */
export const billing = {
  first_name: 'Ioana',
  last_name: 'Dumitrescu',
  email: 'ioana@example.ro',
  phone: '0722000111',
  address: 'Str. Lungă 5',
  city: 'Brașov',
  country: 'RO',
};

/** NETOPIA emulator cards: one the emulator declines (insufficient funds), one it pays. */
/** A payment in RON made through the merchant API, as the console tests' shop makes one (the payer comes back to `returnUrl`). */
export async function createShopPayment(
  hubUrl: string,
  key: string,
  p: { connection: string; order: string; amount?: number; returnUrl: string },
): Promise<{ id: string; payment_url: string }> {
  const r = await apiClient(hubUrl, key)('POST', '/v1/payments', {
    connection: p.connection,
    order_id: p.order,
    amount: p.amount ?? 4990,
    currency: 'RON',
    description: `Comanda ${p.order}`,
    billing,
    return_url: p.returnUrl,
    metadata: { language: 'en' },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body as { id: string; payment_url: string };
}

export const DECLINED_CARD = '9900518572831942';
export const GOOD_CARD = '9900004810225098';

/** Logs a page in through the console's login form (English labels); waits for the overview. */
export async function logInPage(page: Page, hubUrl: string, email: string, password = PASSWORD): Promise<void> {
  await page.goto(`${hubUrl}/console/login`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${hubUrl}/console/overview`);
}

/** Pays on the processor's card page the payment link leads to (NETOPIA v1 or v2 emulator), as the payer would. */
export async function payOnCardPage(page: Page, pan: string): Promise<void> {
  await page.getByLabel(/^(Card number|Număr card)$/).fill(pan);
  await page.getByLabel(/^(Expiry date|Data expirării)$/).fill('12/30');
  await page.getByLabel('CVV').fill('111');
  await page.getByRole('button', { name: /^(Pay|Plătește)$/ }).click();
}

/**
 * The payer opens the payment link in a browser context of its own and pays on the emulator's card page: `paid`
 * waits for the shop's return page, `declined` for the card page's refusal.
 */
export async function payInNewContext(browser: Browser, url: string, pan: string, expect: 'paid' | 'declined'): Promise<void> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url);
    await payOnCardPage(page, pan);
    if (expect === 'paid') await page.waitForURL(/\/shop\/thanks\?/);
    else await page.getByRole('alert').waitFor();
  } finally {
    await context.close();
  }
}
