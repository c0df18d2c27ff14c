import { instantOfWallClock, wallClockAt, wallClockParts } from '../../core/wall-clock.js';

/**
 * XPay states when a transaction happened as `data` (YYYYMMDD) and `orario` (HHMMSS), Italian local time
 * (Europe/Rome, CET/CEST).
 */

const ROME = 'Europe/Rome';

/** The wall-clock date and time in Rome, as XPay writes them. */
export function romeDataOrario(instant: Date): { data: string; orario: string } {
  const { date, time } = wallClockParts(wallClockAt(instant, ROME));
  return { data: date.replaceAll('-', ''), orario: time.replaceAll(':', '') };
}

/**
 * The instant (ISO 8601, UTC) of a Rome wall-clock `data` + `orario`; undefined when they are not a real
 * date and time. In the autumn hour that happens twice, the first (summer-time) one is taken; a time skipped by
 * the spring change (02:xx on the last Sunday of March) is read with winter time.
 */
export function romeToIso(data: string, orario: string): string | undefined {
  const d = /^(\d{4})(\d{2})(\d{2})$/.exec(data);
  const t = /^(\d{2})(\d{2})(\d{2})$/.exec(orario);
  if (!d || !t) return undefined;
  const [year, month, day, hour, minute, second] = [d[1], d[2], d[3], t[1], t[2], t[3]].map(Number) as [number, number, number, number, number, number];
  return instantOfWallClock({ year, month, day, hour, minute, second }, ROME)?.toISOString();
}
