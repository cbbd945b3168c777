/**
 * Deterministic presentation documents of a given encoded size, built like real ones: several users (client ids)
 * adding slides, typing phrases at random places, deleting ranges, formatting, moving elements around. Same seed
 * and size → the same bytes (cached in bench/.cache/, which git ignores).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as Y from 'yjs';
import { getSlides, insertSlide, slideText } from '../../shared/presentation.js';

const HERE = dirname(fileURLToPath(import.meta.url));
// bench/.cache, also when this module runs from the transpiled copy in bench/.cache/dist/bench/lib.
const DIST = `${sep}bench${sep}.cache${sep}dist${sep}`;
const CACHE = HERE.includes(DIST) ? join(HERE.slice(0, HERE.indexOf(DIST)), 'bench', '.cache') : join(HERE, '..', '.cache');
const VERSION = 2;
const WORDS =
  'revenue growth quarter roadmap launch customer market team design review budget pipeline churn onboarding pricing partner strategy hiring metrics retention forecast platform mobile latency release feedback survey margin product sales'.split(
    ' ',
  );

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateDocument(targetBytes: number, seed = 1): Uint8Array {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const phrase = (n: number) => `${Array.from({ length: n }, () => WORDS[int(WORDS.length)]).join(' ')} `;
  const doc = new Y.Doc({ gc: true });
  const users = Array.from({ length: 8 }, (_, i) => 1_000_000 + seed * 100 + i);
  const slides = getSlides(doc);
  let nextSlide = 0;
  let ops = 0;
  let nextCheck = 200;
  for (;;) {
    doc.clientID = users[int(users.length)]!;
    doc.transact(() => {
      const r = rnd();
      if (slides.length < 5 || r < 0.01) {
        insertSlide(doc, { id: `s${nextSlide++}`, title: phrase(3), body: phrase(12), notes: '' }, int(slides.length + 1));
        return;
      }
      const slide = slides.get(int(slides.length));
      const f = rnd();
      const text = slideText(slide, f < 0.1 ? 'title' : f < 0.8 ? 'body' : 'notes');
      if (r < 0.75) {
        text.insert(int(text.length + 1), phrase(1 + int(8)));
      } else if (r < 0.9) {
        if (text.length > 4) {
          const at = int(text.length - 1);
          text.delete(at, Math.min(1 + int(20), text.length - at));
        }
      } else if (r < 0.97) {
        const elements = slide.get('elements') as Y.Map<unknown>;
        elements.set(`e${int(6)}`, { kind: 'shape', x: int(1920), y: int(1080), w: 50 + int(400), h: 50 + int(300) });
      } else if (text.length > 4) {
        const at = int(text.length - 1);
        text.format(at, Math.min(1 + int(30), text.length - at), { bold: rnd() < 0.5 ? true : null });
      }
    });
    if (++ops >= nextCheck) {
      const size = Y.encodeStateAsUpdate(doc).byteLength;
      if (size >= targetBytes) break;
      // Check again about when the target should be reached (at least 200 ops and 0.5 % later).
      nextCheck = ops + Math.max(200 + Math.floor(ops / 200), Math.floor(((targetBytes - size) / size) * ops * 0.9));
    }
  }
  const update = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return update;
}

/** The fixture from bench/.cache, generated on first use. */
export function cachedFixture(targetBytes: number, seed = 1): Uint8Array {
  const file = join(CACHE, `presentation-${targetBytes}-s${seed}-v${VERSION}.ydoc`);
  if (existsSync(file)) return new Uint8Array(readFileSync(file));
  const update = generateDocument(targetBytes, seed);
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(file, update);
  return update;
}
