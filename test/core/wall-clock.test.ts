import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { instantOfWallClock, isRealWallClock, wallClockAt, wallClockParts, type WallClock } from '../../src/core/wall-clock.js';

const at = (year: number, month: number, day: number, hour: number, minute = 0, second = 0): WallClock => ({ year, month, day, hour, minute, second });
const ROME = 'Europe/Rome';

describe('wall-clock time in a named zone', () => {
  it('reads Rome in winter (+1 h) and in summer (+2 h), and Amsterdam the same way', () => {
    assert.deepEqual(wallClockAt(new Date('2026-01-15T10:20:30Z'), ROME), at(2026, 1, 15, 11, 20, 30));
    assert.deepEqual(wallClockAt(new Date('2026-07-15T10:20:30Z'), ROME), at(2026, 7, 15, 12, 20, 30));
    assert.deepEqual(wallClockParts(wallClockAt(new Date('2026-12-31T23:59:59Z'), 'Europe/Amsterdam')), { date: '2027-01-01', time: '00:59:59' });
  });

  it('turns a wall clock back into the instant, round-tripping every quarter hour of a year', () => {
    for (let t = Date.parse('2026-01-01T00:00:00Z'); t < Date.parse('2027-01-01T00:00:00Z'); t += 15 * 60_000) {
      const instant = new Date(t);
      const w = wallClockAt(instant, ROME);
      // The repeated autumn hour maps back to its first occurrence; every other instant maps back to itself.
      const back = instantOfWallClock(w, ROME)!;
      if (back.getTime() !== t) assert.equal(back.getTime(), t - 3600_000, instant.toISOString());
    }
  });

  it('takes the summer-time occurrence of the autumn hour that happens twice (25 Oct 2026, 02:30)', () => {
    assert.equal(instantOfWallClock(at(2026, 10, 25, 2, 30), ROME)!.toISOString(), '2026-10-25T00:30:00.000Z');
  });

  it('reads a time the spring change skips (29 Mar 2026, 02:30) with winter time', () => {
    assert.equal(instantOfWallClock(at(2026, 3, 29, 2, 30), ROME)!.toISOString(), '2026-03-29T01:30:00.000Z');
  });

  it('refuses dates and times that do not exist', () => {
    for (const w of [
      at(2026, 2, 29, 0),
      at(2026, 4, 31, 0),
      at(2026, 13, 1, 0),
      at(2026, 1, 1, 24),
      at(2026, 1, 1, 0, 60),
      at(2026, 1, 1, 0, 0, 60),
      at(0, 1, 1, 0),
      at(2026.5, 1, 1, 0),
    ]) {
      assert.equal(isRealWallClock(w), false, JSON.stringify(w));
      assert.equal(instantOfWallClock(w, ROME), undefined, JSON.stringify(w));
    }
    assert.equal(isRealWallClock(at(2028, 2, 29, 23, 59, 59)), true);
  });
});
