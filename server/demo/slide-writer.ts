/**
 * The demo generator's way into a deck: the operations API over HTTP, as an external worker would call it, with a
 * service token (`documents:write`) this server mints for itself. Each slide is one `add_slide` batch at the end of
 * the deck, stored when the call returns.
 */
import type { TokenVerifier } from '../auth/jwt.js';
import { DomainError } from '../errors.js';
import type { GeneratedSlide, SlideWriter } from './generation-simulator.js';

export const GENERATOR_USER = 'demo-generator';

export function httpSlideWriter(origin: string, verifier: TokenVerifier, presentationId: string): SlideWriter {
  const url = `${origin}/api/v1/presentations/${encodeURIComponent(presentationId)}/operations`;
  return {
    async add(slide: GeneratedSlide): Promise<string> {
      const token = verifier.sign({ sub: GENERATOR_USER, name: 'Slide generator', scope: 'documents:write' }, 300);
      const response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ operations: [{ type: 'add_slide', content: { title: slide.title, body: slide.body } }] }),
      });
      const body = (await response.json().catch(() => ({}))) as { slide_ids?: string[]; message?: string };
      if (!response.ok || !body.slide_ids?.[0])
        throw new DomainError('INTERNAL_ERROR', `the operations API refused a slide: ${body.message ?? response.status}`);
      return body.slide_ids[0];
    },
  };
}
