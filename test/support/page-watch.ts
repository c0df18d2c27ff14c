import type { Browser, BrowserContext, Page } from 'playwright-core';
import { seriousViolations } from './axe.js';

/**
 * The pages of a browser test, watched: every script error or Content-Security-Policy violation a page reports
 * (`pageErrors`) and every serious or critical axe-core finding on the pages checked (`axeFindings`), for one test
 * at the end of the file to assert that both are empty.
 */
export function watchPages(
  browser: () => Browser,
  options: {
    viewport?: { width: number; height: number };
    /** How long an action may wait for its page (playwright's default is 30 s). */
    timeoutMs?: number;
    /** Leave out "Failed to load resource" (a page refused on purpose, such as a 403, is not an error of the page). */
    ignoreFailedLoads?: boolean;
  } = {},
) {
  const pageErrors: string[] = [];
  const axeFindings: string[] = [];
  return {
    pageErrors,
    axeFindings,
    /** A new page (in a new context unless one is given) whose errors are collected. */
    async newPage(context?: BrowserContext): Promise<Page> {
      const page = await (context ?? (await browser().newContext(options.viewport ? { viewport: options.viewport } : {}))).newPage();
      if (options.timeoutMs) page.setDefaultTimeout(options.timeoutMs);
      page.on('console', (m) => {
        if (m.type() !== 'error') return;
        if (options.ignoreFailedLoads && m.text().startsWith('Failed to load resource')) return;
        pageErrors.push(`${page.url()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
      return page;
    },
    /** Runs axe-core on the page as it is now and keeps its serious and critical findings. */
    async axe(page: Page): Promise<void> {
      const url = new URL(page.url());
      for (const v of await seriousViolations(page)) axeFindings.push(`${url.pathname}${url.search}: ${v}`);
    },
  };
}
