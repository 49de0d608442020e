// The FIFO where requests wait when every server is full (HAProxy's backend queue): bounded in
// length and in time, served strictly in arrival order as slots free. Wait times are counted so
// queueing shows in `portico status` before it shows as 504s.
import type { PickRequest } from './policies/policy.ts';

export interface Waiter<T> {
  readonly req: PickRequest;
  readonly since: number;
  resolve(value: T): void;
  reject(err: unknown): void;
  /** Clears the timer and the abort listener; set by the queue. */
  cleanup: () => void;
}

export interface QueueStats {
  depth: number;
  /** Age of the oldest waiting request, ms. */
  oldestWait: number;
  queued: number;
  served: number;
  timedOut: number;
  rejected: number;
  /** Mean wait of the requests served from the queue, ms. */
  meanWait: number;
}

export class WaitQueue<T> {
  maxLength: number;
  timeout: number;
  private items: Waiter<T>[] = [];
  private head = 0;
  private queued = 0;
  private served = 0;
  private timedOut = 0;
  private rejected = 0;
  private waitSum = 0;

  constructor(maxLength: number, timeout: number) {
    this.maxLength = maxLength;
    this.timeout = timeout;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /**
   * Waits for `serve` to hand a value to this request. Null when the queue is full (the caller
   * answers 503 at once); `onTimeout` builds the error for a request that waited too long.
   */
  enqueue(req: PickRequest, signal: AbortSignal | null, onTimeout: (waited: number) => unknown): Promise<T> | null {
    if (this.length >= this.maxLength) {
      this.rejected++;
      return null;
    }
    this.queued++;
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<T> = { req, since: Date.now(), resolve, reject, cleanup: () => {} };
      const timer = setTimeout(() => {
        this.remove(w);
        this.timedOut++;
        reject(onTimeout(Date.now() - w.since));
      }, this.timeout);
      const onAbort = () => {
        this.remove(w);
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      w.cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.items.push(w);
    });
  }

  /** The oldest waiter, still queued. */
  peek(): Waiter<T> | undefined {
    return this.items[this.head];
  }

  /** Takes the oldest waiter off the queue and hands it `value`. */
  serveHead(value: T): void {
    const w = this.items[this.head++];
    this.compact();
    w.cleanup();
    this.served++;
    this.waitSum += Date.now() - w.since;
    w.resolve(value);
  }

  /** Rejects every waiter, e.g. when the last server went down. */
  rejectAll(err: () => unknown): void {
    const waiting = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    for (const w of waiting) {
      w.cleanup();
      w.reject(err());
    }
  }

  stats(): QueueStats {
    const oldest = this.peek();
    return {
      depth: this.length,
      oldestWait: oldest === undefined ? 0 : Date.now() - oldest.since,
      queued: this.queued,
      served: this.served,
      timedOut: this.timedOut,
      rejected: this.rejected,
      meanWait: this.served === 0 ? 0 : Math.round(this.waitSum / this.served),
    };
  }

  private remove(w: Waiter<T>): void {
    w.cleanup();
    const i = this.items.indexOf(w, this.head);
    if (i !== -1) this.items.splice(i, 1);
  }

  private compact(): void {
    // Drop served entries now and then instead of shifting on every dequeue.
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
