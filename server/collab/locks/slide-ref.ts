/** The slide a lock is taken on: the first live slide with the id, by its map's struct id (see LockTarget). */
import * as Y from 'yjs';
import { getSlides } from '../../../shared/presentation.js';
import type { LockTarget } from './lock-store.js';

export function lockTargetOf(doc: Y.Doc, slideId: string): LockTarget | null {
  for (let item = getSlides(doc)._start; item !== null; item = item.right) {
    if (item.deleted || !(item.content instanceof Y.ContentType)) continue;
    const slide = item.content.type;
    if (slide instanceof Y.Map && slide.get('id') === slideId) return { slideId, ref: { client: item.id.client, clock: item.id.clock } };
  }
  return null;
}
