// Restart pacing for crashed workers: a worker that dies once is replaced at once; one that keeps
// dying waits longer each time (so a crash loop cannot spin the CPU), and a worker that stayed up
// long enough earns a fresh start.

export interface BackoffOptions {
  /** Delay after the second crash in a row; the first restart is immediate. */
  initial: number;
  max: number;
  /** A worker that ran this long before dying resets the sequence. */
  resetAfter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initial: 100, max: 10_000, resetAfter: 30_000 };

export class RestartBackoff {
  readonly options: BackoffOptions;
  #attempt = 0;

  constructor(options: BackoffOptions = DEFAULT_BACKOFF) {
    this.options = options;
  }

  /** The delay before restarting a worker that was up for `uptime` ms before it died. */
  next(uptime: number): number {
    if (uptime >= this.options.resetAfter) this.#attempt = 0;
    const attempt = this.#attempt++;
    if (attempt === 0) return 0;
    return Math.min(this.options.max, this.options.initial * 2 ** (attempt - 1));
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** Counts crashes in a sliding window, to tell an unlucky crash from a crash loop. */
export class CrashWindow {
  readonly limit: number;
  readonly windowMs: number;
  #times: number[] = [];

  constructor(limit = 5, windowMs = 10_000) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Records a crash at `now` and returns how many happened within the window. */
  record(now: number): number {
    this.#times.push(now);
    const since = now - this.windowMs;
    while (this.#times.length > 0 && this.#times[0] <= since) this.#times.shift();
    return this.#times.length;
  }

  looping(count: number): boolean {
    return count >= this.limit;
  }
}
