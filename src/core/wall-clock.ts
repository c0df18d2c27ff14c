/**
 * Wall-clock time in a named time zone (Europe/Rome for XPay and OnPay, Europe/Amsterdam for MultiSafepay), from
 * and to instants. It uses the runtime's IANA time-zone data (Node ships full ICU), so daylight-saving changes are
 * right without a hand-kept table.
 */

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formats.set(timeZone, format);
  }
  return format;
}

/** What a clock in `timeZone` shows at `instant`. */
export function wallClockAt(instant: Date, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatFor(timeZone).formatToParts(instant)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** True when the fields name a real calendar date and time of day (no 31 April, no 24:00). */
export function isRealWallClock(w: WallClock): boolean {
  const probe = new Date(Date.UTC(w.year, w.month - 1, w.day));
  return (
    [w.year, w.month, w.day, w.hour, w.minute, w.second].every(Number.isInteger) &&
    w.year >= 1 &&
    w.year <= 9999 &&
    probe.getUTCFullYear() === w.year &&
    probe.getUTCMonth() === w.month - 1 &&
    probe.getUTCDate() === w.day &&
    w.hour >= 0 &&
    w.hour <= 23 &&
    w.minute >= 0 &&
    w.minute <= 59 &&
    w.second >= 0 &&
    w.second <= 59
  );
}

/** The zone's offset from UTC at `instant`, in milliseconds (Rome: +1 h in winter, +2 h in summer). */
function offsetMs(instant: number, timeZone: string): number {
  const w = wallClockAt(new Date(instant), timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(instant / 1000) * 1000;
}

const same = (a: WallClock, b: WallClock) =>
  a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute && a.second === b.second;

/**
 * The instant at which a clock in `timeZone` shows `w`; undefined when `w` is not a real date and time. In the
 * autumn hour that happens twice, the first (summer-time) one is taken; a time the spring change skips is read
 * with the offset in force before the change.
 */
export function instantOfWallClock(w: WallClock, timeZone: string): Date | undefined {
  if (!isRealWallClock(w)) return undefined;
  const wall = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  // The offsets in force a little before and a little after: one of them reproduces the wall clock.
  const before = offsetMs(wall - 3 * 3600_000, timeZone);
  for (const offset of [before, offsetMs(wall + 3 * 3600_000, timeZone)]) {
    const candidate = new Date(wall - offset);
    if (same(wallClockAt(candidate, timeZone), w)) return candidate;
  }
  return new Date(wall - before);
}

const two = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DD` and `HH:MM:SS` of a wall clock, the pieces the processors' formats are built from. */
export function wallClockParts(w: WallClock): { date: string; time: string } {
  return { date: `${String(w.year).padStart(4, '0')}-${two(w.month)}-${two(w.day)}`, time: `${two(w.hour)}:${two(w.minute)}:${two(w.second)}` };
}
