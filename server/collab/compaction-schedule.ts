/**
 * When a loaded document's log is compacted while the document stays in memory (./persistence.ts compacts it again
 * when it leaves): once `afterUpdates` rows were appended for it since its last compaction, after those rows are
 * written (so that the compaction folds them), and not sooner than `intervalMs` after the first append counted here
 * or the previous compaction here started. A compaction reads and merges the whole document, so a document edited at
 * 1,000 updates/s is compacted every `intervalMs`, not twice a second — as often as Hocuspocus' debounced store ran
 * under continuous editing (its maxDebounce, from the first change) when it decided compaction. Per update, nothing
 * here runs but a comparison.
 */
import type { UpdateLog } from './update-log.js';

export interface CompactionScheduleOptions {
  afterUpdates: number;
  intervalMs: number;
  log: UpdateLog;
  /** Compacts the document (never rejects). */
  compact: (documentName: string) => Promise<void>;
}

export class CompactionSchedule {
  /** Documents due, waiting for their interval. */
  private readonly waiting = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  /** Per document, when its interval started: its first counted append, then each compaction. */
  private readonly startedAt = new Map<string, number>();

  constructor(private readonly options: CompactionScheduleOptions) {}

  /** `appended`: rows appended for the document since its last compaction. */
  counted(documentName: string, appended: number): void {
    if (!this.startedAt.has(documentName)) this.startedAt.set(documentName, Date.now());
    if (appended < this.options.afterUpdates || this.waiting.has(documentName) || this.running.has(documentName)) return;
    const wait = (this.startedAt.get(documentName) ?? 0) + this.options.intervalMs - Date.now();
    if (wait <= 0) {
      this.start(documentName);
      return;
    }
    const timer = setTimeout(() => {
      this.waiting.delete(documentName);
      this.start(documentName);
    }, wait);
    timer.unref();
    this.waiting.set(documentName, timer);
  }

  /** The document is leaving memory (and is compacted on its way out): nothing waits; a running compaction ends first. */
  async leaving(documentName: string): Promise<void> {
    clearTimeout(this.waiting.get(documentName));
    this.waiting.delete(documentName);
    await this.running.get(documentName);
  }

  /** The document left memory. */
  forget(documentName: string): void {
    this.startedAt.delete(documentName);
  }

  /** Compactions running now. */
  get inFlight(): Promise<void>[] {
    return [...this.running.values()];
  }

  private start(documentName: string): void {
    this.startedAt.set(documentName, Date.now());
    const last = this.options.log.requiredFor(documentName);
    const written = Number.isFinite(last) ? this.options.log.whenSettled(last) : Promise.resolve();
    const run = written.then(() => this.options.compact(documentName)).finally(() => this.running.delete(documentName));
    this.running.set(documentName, run);
  }
}
