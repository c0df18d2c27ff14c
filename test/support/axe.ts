import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/**
 * Accessibility checks with axe-core in headless Chromium. The payer's pages forbid scripts (their CSP), so the
 * page's context must let the test add one: open it with `auditContext` (Playwright's `bypassCSP`), which also sets
 * the browser's language (its Accept-Language). `expectAccessible` injects axe from node_modules and fails on any
 * serious or critical violation, naming the rule and the elements.
 */

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** A browser context whose pages axe can be injected into, speaking `locale` (e.g. `ro-RO`) in Accept-Language. */
export function auditContext(browser: Browser, locale = 'en-US'): Promise<BrowserContext> {
  return browser.newContext({ bypassCSP: true, locale });
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/** Runs axe on the page as it is now; fails on serious/critical violations. */
export async function expectAccessible(page: Page, what = page.url()): Promise<void> {
  const hasAxe = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe === 'object');
  if (!hasAxe) await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`),
    [],
    `axe found serious or critical violations on ${what}`,
  );
}
