import assert from 'node:assert/strict';
import type { TestHub } from './hub.js';

// What the log-scan suites (test/hostile/log-scan*.test.ts) share: finding a value in log lines, raw or JSON-escaped.

/** Where a secret shows up in the log: the line numbers and the first line, cut around the secret. */
export function leaks(lines: readonly string[], value: string): string[] {
  const escaped = JSON.stringify(value).slice(1, -1);
  const found: string[] = [];
  lines.forEach((line, i) => {
    const at = Math.max(line.indexOf(value), line.indexOf(escaped));
    if (at >= 0) found.push(`line ${i + 1}: …${line.slice(Math.max(0, at - 120), at + 40)}…`);
  });
  return found;
}

/** Every place one of the labelled secrets appears, as "<label> in line N: …". */
export function secretLeaks(lines: readonly string[], secrets: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [label, value] of secrets) for (const where of leaks(lines, value)) found.push(`${label} in ${where}`);
  return found;
}

/** The flows' requests are in the log, so the scan reads the lines they produced. */
export function assertRoutesLogged(hub: TestHub, routes: readonly string[]): void {
  const urls = hub.logs.map((l) => (l.req as { url?: string } | undefined)?.url ?? '');
  for (const route of routes)
    assert.ok(
      urls.some((u) => u.startsWith(route)),
      `no request to ${route} was logged`,
    );
}

/** The secrets a log-scan suite collects while it runs its flows: label → text that must not appear in a log line. */
export class SecretList extends Map<string, string> {
  /** A secret; it must be long enough (≥ 8 characters) that finding it in a line means a leak. */
  add(label: string, value: string | undefined): void {
    assert.ok(value && value.length >= 8, `${label} was not collected`);
    this.set(label, value);
  }

  /** The base64 body lines of a PEM document that are long enough to be unmistakable (≥ 40 characters), each a secret. */
  addPem(label: string, pem: string): void {
    const lines = pem
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l.length >= 40 && !l.startsWith('-----'));
    assert.ok(lines.length >= 5, `${label}: a PEM with a body`);
    lines.forEach((line, i) => this.add(`${label}, line ${i + 1}`, line));
  }
}
