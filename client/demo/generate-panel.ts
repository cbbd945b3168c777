/**
 * "Generate slides": starts the server's simulated generation job for this deck and follows its progress over SSE
 * with the SDK (resuming after drops). The generator is a worker of the operations API: it writes each slide into
 * the deck as it drafts it, so the slides arrive live in the slide list, for everyone, through the Yjs document.
 */
import type { DeckhandClient, JobProgressData } from '../index.js';
import type { DevApi } from './dev-api.js';
import { h } from './dom.js';

export class GeneratePanel {
  private readonly topic = h('input', { value: 'Quarterly review', maxlength: 120, 'aria-label': 'Topic' });
  private readonly button = h('button', { 'data-testid': 'generate' }, 'Generate slides');
  private readonly bar = h('div', { class: 'bar' });
  private readonly progress = h(
    'div',
    { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'data-testid': 'progress' },
    this.bar,
  );
  private readonly label = h('span', { class: 'progress-label', 'data-testid': 'progress-label' }, 'Idle');

  constructor(
    root: HTMLElement,
    private readonly client: DeckhandClient,
    private readonly devApi: DevApi,
    onError: (error: unknown) => void,
  ) {
    this.button.addEventListener(
      'click',
      () =>
        void this.generate()
          .catch(onError)
          .finally(() => (this.button.disabled = false)),
    );
    root.replaceChildren(h('h2', {}, 'Generate'), this.topic, this.button, this.progress, this.label);
  }

  private show(data: JobProgressData): void {
    const percent = Math.round(data.progress * 100);
    this.bar.style.width = `${percent}%`;
    this.progress.setAttribute('aria-valuenow', String(percent));
    this.progress.dataset.status = data.status;
    this.label.textContent = `${percent}% · ${data.current_step ?? data.status}`;
  }

  private async generate(): Promise<void> {
    this.button.disabled = true;
    this.label.textContent = 'Starting…';
    const jobId = await this.devApi.startGeneration(this.topic.value.trim() || 'Quarterly review');
    const follower = this.client.followJob(jobId, (event) => this.show(event.data), { transport: 'sse' });
    const final = await follower.done;
    if (final.status !== 'completed') throw new Error(`generation ${final.status}`);
  }
}
