/**
 * The rates a max-throughput scenario tries: doubling from `start` until a rate fails, then bisecting between the
 * highest rate that passed and the lowest that failed while that gap is more than `resolution` of the rate that
 * passed. Doubling alone can only tell 1×, 0.5× or 0.25× apart, which is no way to check a 0.9× target; with a
 * resolution of 1/8 the answer is within 12.5 % (three more steps after the first failure).
 */
export class RateLadder {
  private passed = 0;
  private failed = Number.POSITIVE_INFINITY;
  private current: number;

  constructor(
    start: number,
    private readonly ceiling: number,
    private readonly resolution = 1 / 8,
  ) {
    this.current = start;
  }

  /** The rate to try now, or undefined when the search is over. */
  get next(): number | undefined {
    return this.current > 0 ? this.current : undefined;
  }

  /** The highest rate that passed (0 if none did). */
  get maxPassed(): number {
    return this.passed;
  }

  /** Records the verdict for `next` and moves on. */
  record(pass: boolean): void {
    if (pass) this.passed = this.current;
    else this.failed = this.current;
    if (this.failed === Number.POSITIVE_INFINITY) {
      this.current = this.current * 2 <= this.ceiling ? this.current * 2 : 0;
      return;
    }
    if (this.passed === 0 || (this.failed - this.passed) / this.passed <= this.resolution) {
      this.current = 0;
      return;
    }
    // Rounded to 50 updates/s, so that runs of the same target try the same rates.
    const mid = Math.round((this.passed + this.failed) / 2 / 50) * 50;
    this.current = mid > this.passed && mid < this.failed ? mid : 0;
  }
}
