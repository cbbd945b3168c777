/**
 * Versions: save a named version, see the list (newest first), restore one. A restore reaches every open editor as
 * an ordinary change; the toast after it offers Undo, which restores the backup version the server took just before.
 */
import type { DeckhandClient, RestoreResult, VersionSummary } from '../index.js';
import { h } from './dom.js';
import type { Toasts } from './toasts.js';

const REFRESH_MS = 10_000;

function describe(version: VersionSummary): string {
  if (version.label) return version.label;
  return version.kind === 'automatic' ? 'Automatic version' : version.kind === 'backup' ? 'Before a restore' : 'Unnamed version';
}

export class VersionsPanel {
  private readonly label = h('input', {
    maxlength: 200,
    placeholder: 'Version name (optional)',
    'aria-label': 'Version name',
    'data-testid': 'version-label',
  });
  private readonly save = h('button', { type: 'submit', 'data-testid': 'version-save' }, 'Save version');
  private readonly list = h('ul', { class: 'versions', 'data-testid': 'versions' });
  private busy = false;

  constructor(
    root: HTMLElement,
    private readonly client: DeckhandClient,
    private readonly deck: string,
    private readonly canRestore: boolean,
    private readonly toasts: Toasts,
    private readonly onError: (error: unknown) => void,
  ) {
    const form = h('form', { class: 'version-form' }, this.label, this.save);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.run(() => this.create());
    });
    this.save.disabled = !canRestore;
    root.replaceChildren(h('h2', {}, 'Versions'), form, this.list);
    void this.refresh();
    setInterval(() => {
      if (!document.hidden && !this.busy) void this.refresh();
    }, REFRESH_MS);
  }

  async refresh(): Promise<void> {
    try {
      const { versions } = await this.client.versions.list(this.deck, { limit: 20 });
      this.render(versions);
    } catch (err) {
      this.onError(err);
    }
  }

  private render(versions: VersionSummary[]): void {
    this.list.replaceChildren(
      ...versions.map((version) => {
        const restore = h('button', { class: 'secondary', 'data-testid': 'version-restore', disabled: !this.canRestore }, 'Restore');
        restore.addEventListener('click', () => void this.run(() => this.restore(version)));
        return h(
          'li',
          { 'data-testid': 'version', 'data-kind': version.kind, 'data-version-id': version.version_id },
          h('div', { class: 'version-head' }, h('strong', {}, describe(version)), restore),
          h('small', {}, `${new Date(version.created_at).toLocaleTimeString()}${version.created_by_name ? ` · ${version.created_by_name}` : ''}`),
        );
      }),
    );
    if (versions.length === 0) this.list.append(h('li', { class: 'empty' }, 'No versions yet.'));
  }

  private async create(): Promise<void> {
    const label = this.label.value.trim();
    await this.client.versions.create(this.deck, label ? { label } : {});
    this.label.value = '';
  }

  private async restore(version: VersionSummary): Promise<void> {
    const result: RestoreResult = await this.client.versions.restore(this.deck, version.version_id);
    this.toasts.show({
      id: 'restore',
      kind: 'success',
      title: 'Version restored',
      message: `The deck is back to “${describe(version)}”.`,
      timeoutMs: 10_000,
      action: { label: 'Undo', run: () => void this.run(() => this.undo(result)) },
    });
  }

  private async undo(result: RestoreResult): Promise<void> {
    await this.client.versions.restore(this.deck, result.backup_version_id);
    this.toasts.show({ id: 'restore', kind: 'info', title: 'Restore undone', message: 'The deck is back to what it was before.', timeoutMs: 6000 });
  }

  /** One action at a time; the list is refreshed after it, whatever happened. */
  private async run(action: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.save.disabled = true;
    try {
      await action();
    } catch (err) {
      this.onError(err);
    } finally {
      this.busy = false;
      this.save.disabled = !this.canRestore;
      await this.refresh();
    }
  }
}
