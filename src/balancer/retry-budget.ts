// A retry budget (Finagle's and Envoy's idea): every request deposits `ratio` of a token, every
// retry withdraws a whole one, so retries stay near `ratio` of traffic however many servers fail;
// a small reserve lets a quiet pool retry at all. Without it, `retries: 2` triples the load on a
// backend that is already failing.
export class RetryBudget {
  private tokens: number;
  ratio: number;
  private readonly reserve: number;
  retried = 0;
  denied = 0;

  constructor(ratio: number, reserve = 10) {
    this.ratio = ratio;
    this.reserve = reserve;
    this.tokens = reserve;
  }

  /** One request entered the pool. */
  deposit(): void {
    // Capped so a long quiet spell cannot save up a retry storm.
    this.tokens = Math.min(this.tokens + this.ratio, this.reserve + 100 * this.ratio);
  }

  /** Whether one retry may go out now; takes its token when it may. */
  withdraw(): boolean {
    if (this.tokens < 1) {
      this.denied++;
      return false;
    }
    this.tokens -= 1;
    this.retried++;
    return true;
  }
}
