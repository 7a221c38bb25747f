// Summaries the table needs: median of rounds with min–max, and latency percentiles.

export interface Rounds {
  median: number;
  min: number;
  max: number;
  rounds: number[];
}

export function rounds(values: readonly number[]): Rounds {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n === 0 ? NaN : n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted[n - 1] ?? NaN, rounds: [...values] };
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles; NaN when there is no sample. */
export function percentiles(samples: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(samples as ArrayLike<number>).sort();
  const at = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!);
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

export function fmtNum(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtRounds(r: Rounds, unit = '/s'): string {
  if (!Number.isFinite(r.median)) return 'n/a';
  return `${fmtNum(r.median)}${unit} (${fmtNum(r.min)}–${fmtNum(r.max)})`;
}

export function fmtMs(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(1)} ms`;
}

/**
 * Calls `emit(k)` at `rate` per second for `durationMs`, from a 1 ms timer, catching up after a late
 * tick by at most `maxBurst` calls (so an overloaded process shows up as a lower achieved rate,
 * not as a burst that distorts latency). Bounded in time and in count.
 */
export function paced(rate: number, durationMs: number, emit: (index: number) => void, maxBurst = Math.max(2, Math.ceil(rate / 100))) {
  return new Promise<{ sent: number; elapsedMs: number; skipped: number }>((resolve) => {
    const start = performance.now();
    const total = Math.floor((rate * durationMs) / 1000);
    let sent = 0;
    let skipped = 0;
    const tick = () => {
      const elapsed = performance.now() - start;
      if (elapsed >= durationMs || sent + skipped >= total) {
        resolve({ sent, elapsedMs: performance.now() - start, skipped });
        return;
      }
      let due = Math.min(total, Math.floor((elapsed * rate) / 1000)) - sent - skipped;
      if (due > maxBurst) {
        skipped += due - maxBurst;
        due = maxBurst;
      }
      for (let i = 0; i < due; i++) emit(sent++);
      setTimeout(tick, 1);
    };
    tick();
  });
}
