/**
 * The current time as `Date.prototype.toISOString` writes it, for the timestamp of every job change. V8 formats an
 * ISO date in its runtime (~1 µs on this VM, once per progress POST); here the text up to the second is formatted
 * once per second by toISOString itself, and each call appends the milliseconds from a table: the same characters.
 */

/** `000Z` … `999Z`. */
const MILLIS = Array.from({ length: 1000 }, (_, ms) => `${String(ms).padStart(3, '0')}Z`);

let second = Number.NaN;
/** `YYYY-MM-DDTHH:MM:SS.` of `second`. */
let prefix = '';

/** `new Date(ms).toISOString()`, for a time since 1970 (earlier times and invalid ones take toISOString itself). */
export function isoAt(ms: number): string {
  if (!(ms >= 0) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const within = ms % 1000;
  const start = ms - within;
  if (start !== second) {
    const text = new Date(start).toISOString();
    second = start;
    prefix = text.slice(0, text.length - 4);
  }
  return prefix + MILLIS[within]!;
}

/** `new Date().toISOString()`. */
export function isoNow(): string {
  return isoAt(Date.now());
}
