import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/**
 * Accessibility checks with axe-core in headless Chromium, for the payer's pages, the emulators' pages and the
 * console. The pages forbid inline scripts (their CSP), so axe is evaluated through the DevTools protocol
 * (`page.evaluate`, which the page's CSP does not govern) rather than added as a <script>.
 * `seriousViolations` lists what axe finds of serious or critical impact; `expectAccessible` fails on any.
 */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** A browser context speaking `locale` (e.g. `ro-RO`) in Accept-Language. */
export function auditContext(browser: Browser, locale = 'en-US'): Promise<BrowserContext> {
  return browser.newContext({ locale });
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** The page's violations of serious or critical impact as it is now, one line each (empty when none). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const hasAxe = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe === 'object');
  if (!hasAxe) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

/** Runs axe on the page as it is now; fails on serious/critical violations. */
export async function expectAccessible(page: Page, what = page.url()): Promise<void> {
  assert.deepEqual(await seriousViolations(page), [], `axe found serious or critical violations on ${what}`);
}
