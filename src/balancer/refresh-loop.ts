// The lookup rhythm both kinds of discovery share: a round, then the next one `ttl` after it
// ended (never overlapping a slow lookup), until stopped. The timer never keeps the process up.
export class RefreshLoop {
  stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly refresh: () => Promise<void>;
  private readonly ttl: () => number;

  constructor(refresh: () => Promise<void>, ttl: () => number) {
    this.refresh = refresh;
    this.ttl = ttl;
  }

  /** Starts the rhythm after a first round the caller awaited; a no-op when running or stopped. */
  start(): void {
    if (this.timer === null && !this.stopped) this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => { if (!this.stopped) this.schedule(); });
    }, this.ttl());
    this.timer.unref();
  }
}
