// When the dispatcher looks at the queue next, when nothing wakes it: at the earliest due time it
// knows of, never later than its poll interval. One timer, moved earlier when a retry is written
// for sooner (a short retry schedule, a FIFO hook's queue), never later.
import type { Clock } from '../clock.js';

export class NextLook {
  private timer: NodeJS.Timeout | null = null;
  /** when the timer fires, on the clock's time; null when none is set */
  private at: number | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly look: () => void,
  ) {}

  /** Looks in `delayMs`, instead of whenever was set before. */
  in(delayMs: number): void {
    this.cancel();
    this.at = this.clock.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.at = null;
      this.look();
    }, delayMs);
    this.timer.unref?.();
  }

  /** Looks at `at` if that comes before the look already set. */
  byTime(at: number): void {
    if (this.at !== null && this.at <= at) return;
    this.in(Math.max(1, at - this.clock.now()));
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.at = null;
  }
}
