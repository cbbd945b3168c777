/**
 * A pretend slide generator for the demo: it walks a job through the real jobs service (stored, published on the
 * bus, delivered over WebSocket and SSE like any worker's progress) and, given a deck, writes each slide into it as it
 * drafts it, as a real worker would: through the operations API over HTTP with a service token (./slide-writer.ts),
 * so everyone on the deck sees the slides arrive one by one. It completes the job with the slides as its `result`;
 * the user hears of it as of any job's end: the automatic notification (AUTO_NOTIFICATIONS `job`). Runs in this
 * process; stops on app close.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { JobsService } from '../jobs/jobs-service.js';

export interface GeneratedSlide {
  title: string;
  body: string;
}

const ANGLES = [
  'Why it matters',
  'Where we stand',
  'What we propose',
  'Risks and mitigations',
  'Timeline',
  'Next steps',
  'Open questions',
  'Summary',
];

export function draftSlides(topic: string, count: number): GeneratedSlide[] {
  return ANGLES.slice(0, count).map((angle, i) => ({
    title: `${topic}: ${angle}`,
    body: `Point ${i + 1} about ${topic.toLowerCase()}.\nDrafted by the demo generator.`,
  }));
}

/** Where drafted slides go: a deck, through the operations API. Resolves with the new slide's id once stored. */
export interface SlideWriter {
  add(slide: GeneratedSlide): Promise<string>;
}

export class GenerationSimulator {
  private readonly running = new Set<AbortController>();

  constructor(
    private readonly jobs: JobsService,
    private readonly log: FastifyBaseLogger,
    private readonly stepMs = 300,
  ) {}

  /** Starts the simulation of job `jobId` (returns at once); slides go to `writer` when given. */
  start(jobId: string, topic: string, count: number, writer?: SlideWriter): void {
    const controller = new AbortController();
    this.running.add(controller);
    void this.run(jobId, topic, count, controller.signal, writer)
      .catch(async (err: unknown) => {
        if (controller.signal.aborted) return;
        this.log.warn({ err, jobId }, 'demo generation failed');
        await this.jobs.progress(jobId, { status: 'failed', error: 'the demo generator failed' }).catch(() => undefined);
      })
      .finally(() => this.running.delete(controller));
  }

  /** Stops every running simulation (their jobs stay where they were). */
  stopAll(): void {
    for (const controller of this.running) controller.abort();
    this.running.clear();
  }

  private async run(jobId: string, topic: string, count: number, signal: AbortSignal, writer?: SlideWriter): Promise<void> {
    const slides = draftSlides(topic, count);
    const slideIds: string[] = [];
    const steps = ['Outlining', ...slides.map((_, i) => `Drafting slide ${i + 1} of ${slides.length}`), 'Polishing'];
    for (const [i, step] of steps.entries()) {
      await this.pause(signal);
      await this.jobs.progress(jobId, { status: 'processing', progress: i / steps.length, current_step: step, message: `${step}…` });
      const slide = i >= 1 && i <= slides.length ? slides[i - 1] : undefined;
      if (slide && writer) slideIds.push(await writer.add(slide));
    }
    await this.pause(signal);
    const result = writer ? { slides, slide_ids: slideIds } : { slides };
    await this.jobs.progress(jobId, {
      status: 'completed',
      current_step: 'Done',
      message: `${slides.length} slides about “${topic}” are ready`,
      result,
    });
  }

  private pause(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const timer = setTimeout(resolve, this.stepMs);
      signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
    });
  }
}
