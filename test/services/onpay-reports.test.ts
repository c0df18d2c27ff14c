import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { acquirerInstant } from '../../src/services/onpay/reports.js';

/**
 * get_notifications' `notification_date` comes from the acquirer's own timestamp. MultiSafepay writes Amsterdam
 * wall-clock time without an offset (`2022-01-03T15:08:02`); it must be read as Amsterdam time whatever the
 * server's own zone (`TZ`), across daylight-saving changes.
 */

const run = promisify(execFile);
const REPORTS = fileURLToPath(new URL('../../src/services/onpay/reports.ts', import.meta.url));

/** MultiSafepay's timestamps and the instants they name (Amsterdam: +1 h in winter, +2 h in summer). */
const CASES: Array<[string, string]> = [
  ['2022-01-03T15:08:02', '2022-01-03T14:08:02.000Z'],
  ['2025-05-14T08:50:32', '2025-05-14T06:50:32.000Z'],
  // Either side of the spring change (31 Mar 2024, 02:00 → 03:00) and of the autumn one (27 Oct 2024, 03:00 → 02:00).
  ['2024-03-31T01:59:59', '2024-03-31T00:59:59.000Z'],
  ['2024-03-31T03:00:00', '2024-03-31T01:00:00.000Z'],
  ['2024-10-27T01:59:59', '2024-10-26T23:59:59.000Z'],
  ['2024-10-27T03:00:00', '2024-10-27T02:00:00.000Z'],
  // Midnight in Amsterdam is the previous day in UTC.
  ['2026-12-31T00:30:00', '2026-12-30T23:30:00.000Z'],
  // With an offset or Z (Nexi's and Volt's, already instants): as written.
  ['2024-01-15T09:35:12.000Z', '2024-01-15T09:35:12.000Z'],
  ['2022-05-12T12:41:12+00:00', '2022-05-12T12:41:12.000Z'],
];

describe("acquirer timestamps without an offset are read in the acquirer's zone", () => {
  it('the same instants under TZ=UTC, America/New_York, Asia/Tokyo and Europe/Amsterdam (each in its own process)', async () => {
    const script = `const { acquirerInstant } = await import(${JSON.stringify(REPORTS)});
      process.stdout.write(JSON.stringify(${JSON.stringify(CASES.map(([t]) => t))}.map((t) => acquirerInstant(t, 'Europe/Amsterdam')?.toISOString() ?? null)));`;
    for (const tz of ['UTC', 'America/New_York', 'Asia/Tokyo', 'Europe/Amsterdam']) {
      // The test runner's NODE_OPTIONS (tsx) let the child import TypeScript.
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TZ: tz } });
      assert.deepEqual(
        JSON.parse(stdout),
        CASES.map(([, iso]) => iso),
        `TZ=${tz}`,
      );
    }
  });

  it('what is not a timestamp is undefined (the report then uses when the hub received it)', () => {
    for (const t of ['', 'yesterday', '2024-13-01T00:00:00', '2024-02-30T10:00:00', '2024-01-01T24:00:00', '2024-01-01'])
      assert.equal(acquirerInstant(t, 'Europe/Amsterdam'), undefined, t);
  });
});
