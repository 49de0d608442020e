// Portico's own HTTP/1.1 client for one upstream server: a keep-alive connection pool bounded by
// `connections` (idle ones reused last-in first-out, so few stay warm and the rest time out),
// with requests past the bound waiting in FIFO order. The proxy's alternative to an undici Pool on
// the data plane (docs/io-model.md, model B): one string per request head, no per-request stream
// objects for responses that arrive whole, no timer objects per request.
import { ABORTED, UpstreamClientError } from './errors.ts';
import { Exchange, type ExchangeHolder, type ExchangeRequest, type ExchangeSink, type UpstreamResponse } from './exchange.ts';
import { UpstreamConnection } from './connection.ts';
import type { ConnectionHost, ConnectionLike, H1PoolOptions } from './pool-options.ts';
import { sendsChunked, serializeRequestHead } from './request-head.ts';

export type { H1PoolOptions } from './pool-options.ts';
export type { ExchangeRequest, ExchangeSink, UpstreamResponse } from './exchange.ts';

export class H1Pool implements ConnectionHost, ExchangeHolder {
  readonly options: H1PoolOptions;
  private readonly idle: ConnectionLike[] = [];
  private readonly queue: Exchange[] = [];
  private open = 0;
  private closed = false;
  private closeWaiters: (() => void)[] = [];

  constructor(options: H1PoolOptions) {
    this.options = options;
  }

  /** Open connections (idle, busy and connecting), and those idle; for tests and status. */
  get stats(): { open: number; idle: number; queued: number } {
    return { open: this.open, idle: this.idle.length, queued: this.queue.length };
  }

  request(req: ExchangeRequest): Promise<UpstreamResponse> {
    const answer = Promise.withResolvers<UpstreamResponse>();
    this.send(req, answer);
    return answer.promise;
  }

  /**
   * request() without a promise: `sink` hears the answer, from inside the connection's read (the
   * head parsed), or the failure. A request refused before it is sent (aborted, a field that
   * would break the framing) is rejected synchronously, from inside this call.
   */
  send(req: ExchangeRequest, sink: ExchangeSink): void {
    if (req.signal?.aborted === true) {
      sink.reject(new UpstreamClientError(ABORTED, 'request aborted by the client'));
      return;
    }
    let head: string;
    try {
      head = serializeRequestHead(req, this.options.hostHeader);
    } catch (err) {
      sink.reject(err);
      return;
    }
    this.dispatch(new Exchange(req, head, req.body !== null && sendsChunked(req.headers), sink), false);
  }

  dispatch(ex: Exchange, fresh: boolean): void {
    if (!fresh) {
      for (let conn = this.idle.pop(); conn !== undefined; conn = this.idle.pop()) {
        if (conn.idle) {
          conn.send(ex);
          return;
        }
        conn.destroy(); // closed by the server meanwhile: 'close' will forget it
      }
    }
    if (this.open < this.options.connections) {
      this.open++;
      new UpstreamConnection(this).send(ex);
      return;
    }
    ex.holder = this;
    // A resend was already waiting its turn: it goes first.
    if (fresh) this.queue.unshift(ex);
    else this.queue.push(ex);
  }

  release(conn: ConnectionLike, reusable: boolean): void {
    if (!reusable) return; // it is closing; 'close' → forget() hands its slot on
    if (this.closed && this.queue.length === 0) {
      conn.destroy();
      return;
    }
    const next = this.queue.shift();
    if (next !== undefined) conn.send(next);
    else this.idle.push(conn);
  }

  forget(conn: ConnectionLike): void {
    this.open--;
    const i = this.idle.lastIndexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    const next = this.queue.shift();
    if (next !== undefined) this.dispatch(next, true);
    else if (this.closed && this.open === 0) this.settleClose();
  }

  /** A queued exchange's caller went away: it leaves the queue. */
  abortExchange(ex: Exchange, err: Error): void {
    const i = this.queue.indexOf(ex);
    if (i !== -1) this.queue.splice(i, 1);
    ex.unwatch();
    ex.reject(err);
  }

  /** Idle connections close now; busy ones finish their exchange (and queued requests), then close. */
  close(): Promise<void> {
    this.closed = true;
    for (let conn = this.idle.pop(); conn !== undefined; conn = this.idle.pop()) conn.destroy();
    if (this.open === 0) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  private settleClose(): void {
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const w of waiters) w();
  }
}
