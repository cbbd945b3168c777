/**
 * Event ids: `{epoch}.{ms}-{seq}`, e.g. `9f2c01ab.1731412345678-0`.
 *
 * - `ms-seq` is a Redis Stream id (or the in-process bus's equivalent): it grows with every event of a channel.
 * - `epoch` names the history the id belongs to: a random value chosen when that history began (Redis: stored next to
 *   the streams, so a Redis restart that lost them starts a new epoch; in-process: one per process). An id of another
 *   epoch can never be resumed from, so a client never silently skips events after a restart: it gets a reset.
 *
 * Ids are opaque to clients: they go back to the server verbatim as SSE `Last-Event-ID`.
 */
import { randomBytes } from 'node:crypto';

export interface ParsedEventId {
  epoch: string;
  ms: number;
  seq: number;
}

const EVENT_ID = /^([0-9a-f]{8})\.(\d{1,15})-(\d{1,15})$/;
const STREAM_ID = /^(\d{1,15})-(\d{1,15})$/;

export const ZERO_STREAM_ID = '0-0';

export function newEpoch(): string {
  return randomBytes(4).toString('hex');
}

export function formatEventId(epoch: string, streamId: string): string {
  return `${epoch}.${streamId}`;
}

export function parseEventId(id: unknown): ParsedEventId | null {
  if (typeof id !== 'string' || id.length > 64) return null;
  const m = EVENT_ID.exec(id);
  if (!m) return null;
  return { epoch: m[1]!, ms: Number(m[2]), seq: Number(m[3]) };
}

export function parseStreamId(id: string): { ms: number; seq: number } | null {
  const m = STREAM_ID.exec(id);
  return m ? { ms: Number(m[1]), seq: Number(m[2]) } : null;
}

/** Orders two ids of the same epoch (negative: a before b). */
export function compareIds(a: { ms: number; seq: number }, b: { ms: number; seq: number }): number {
  return a.ms === b.ms ? a.seq - b.seq : a.ms - b.ms;
}

/**
 * True when `id` comes after `previous` in a channel. An id of another epoch counts as after: epochs only change
 * when a history was lost, and what follows the change is new.
 */
export function isAfter(id: string, previous: string | undefined): boolean {
  if (previous === undefined) return true;
  return isAfterParsed(parseEventId(id), parseEventId(previous));
}

/** `isAfter` on parsed ids (null: unparseable, counts as after). */
export function isAfterParsed(id: ParsedEventId | null, previous: ParsedEventId | null | undefined): boolean {
  if (!previous || !id || id.epoch !== previous.epoch) return true;
  return compareIds(id, previous) > 0;
}

/** Monotonic `ms-seq` ids for the in-process bus (the same shape Redis gives its stream entries). */
export class StreamIdClock {
  private lastMs = 0;
  private seq = 0;

  next(): string {
    const now = Date.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.seq = 0;
    } else {
      this.seq++;
    }
    return `${this.lastMs}-${this.seq}`;
  }
}
