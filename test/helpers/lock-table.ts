/** The lock table a client sees: the `locks` table sent on join, folded with every `locks_changed` after it. */
import type { SlideLock } from '../../shared/locks.js';
import { waitFor, type CollabClient } from './collab-client.js';

type LockMessage = { type?: string; locks?: SlideLock[]; set?: SlideLock[]; released?: string[] };

export function lockTable(messages: readonly unknown[]): SlideLock[] | undefined {
  let table: Map<string, SlideLock> | undefined;
  for (const m of messages as LockMessage[]) {
    if (m?.type === 'locks' && Array.isArray(m.locks)) table = new Map(m.locks.map((l) => [l.slide_id, l]));
    else if (m?.type === 'locks_changed' && table) {
      for (const slideId of m.released ?? []) table.delete(slideId);
      for (const lock of m.set ?? []) table.set(lock.slide_id, lock);
    }
  }
  return table ? [...table.values()] : undefined;
}

export const locksOf = (client: CollabClient) => lockTable(client.stateless);

export const sendLock = (client: CollabClient, type: 'lock_slide' | 'unlock_slide', slideId: string) =>
  client.provider.sendStateless(JSON.stringify({ type, slide_id: slideId }));

/** Locks `slideId` from `holder` and waits until every client in `seen` shows it. */
export async function lockAndWait(holder: CollabClient, slideId: string, userId: string, seen: CollabClient[] = [holder]): Promise<void> {
  sendLock(holder, 'lock_slide', slideId);
  await waitFor(
    () => seen.every((c) => locksOf(c)?.some((l) => l.slide_id === slideId && l.user_id === userId) === true),
    5000,
    `lock on ${slideId}`,
  );
}
