/** A job change's timestamp (server/jobs/iso-now.ts) is exactly what Date.prototype.toISOString writes. */
import { describe, expect, it } from 'vitest';
import { isoAt, isoNow } from '../../server/jobs/iso-now.js';

describe('isoAt / isoNow', () => {
  it('write the same text as toISOString, across second, day and year boundaries and back in time', () => {
    const starts = [0, 999, Date.UTC(2026, 10, 30, 23, 59, 59, 990), Date.UTC(2026, 11, 31, 23, 59, 59, 500), Date.now()];
    for (const start of starts) {
      for (let ms = start; ms < start + 2500; ms += 3) expect(isoAt(ms)).toBe(new Date(ms).toISOString());
      // Back to an earlier second (the cached one is replaced, never reused for another second).
      expect(isoAt(start)).toBe(new Date(start).toISOString());
    }
    for (const ms of [-1, -1001, 1.5, Date.UTC(10000, 0, 1, 0, 0, 0, 7), Date.UTC(-1, 0, 1)]) expect(isoAt(ms)).toBe(new Date(ms).toISOString());
    expect(() => isoAt(Number.NaN)).toThrow(RangeError);
  });

  it('isoNow is the current time', () => {
    const before = Date.now();
    const now = Date.parse(isoNow());
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});
