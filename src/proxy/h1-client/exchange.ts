// One request/response exchange: what the caller asked, how to answer it, and who holds it
// (waiting in the pool's queue, or on a connection). It is its own abort listener (an object with
// handleEvent), so watching the caller's signal costs no closure per request.
import type { Readable } from 'node:stream';
import type { ResponseHeaders } from '../../http/types.ts';
import type { AbortWatch } from '../../http/context.ts';
import { ABORTED, UpstreamClientError } from './errors.ts';

export interface ExchangeRequest {
  readonly method: string;
  /** origin-form target, validated by the caller's edge or rewrite rules. */
  readonly path: string;
  /** End-to-end fields as forward.ts built them (lowercase names). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Readable | null;
  /** The caller going away: an AbortSignal, or the request's RequestContext itself (no controller per request). */
  readonly signal: AbortWatch | null;
}

export interface UpstreamResponse {
  status: number;
  headers: ResponseHeaders;
  /** The whole body when it arrived with the head, else a stream; null when there is none. */
  body: Buffer | Readable | null;
  /**
   * `Server-Timing` field lines, handed apart from `headers`: the proxy appends them to the journey's
   * own list (an app worker's `app;dur=`), so they never sit in `headers` twice.
   */
  serverTiming: string[] | null;
  /** What the strict parser stored (PorticoResponse.checkedFields): the edge need not check it again. */
  checkedFields: (string | null)[] | null;
  /** Chunked responses only: their trailer fields, settled when the body has ended. */
  trailers?: Promise<Record<string, string> | null>;
}

/** Who hears how an exchange ended: a promise's resolvers, or a caller's own object (no promise per request). */
export interface ExchangeSink {
  resolve(res: UpstreamResponse): void;
  reject(err: unknown): void;
}

/** Where an exchange currently is, so an abort can reach it. */
export interface ExchangeHolder {
  abortExchange(ex: Exchange, err: Error): void;
}

export class Exchange {
  readonly req: ExchangeRequest;
  /** The serialised request head (request-head.ts), kept for a resend on a fresh connection. */
  readonly head: string;
  /** The body goes chunk-framed. */
  readonly chunked: boolean;
  private readonly sink: ExchangeSink;
  holder: ExchangeHolder | null = null;
  /** Sent once more on a fresh connection already (a stale keep-alive connection). */
  retried = false;

  constructor(req: ExchangeRequest, head: string, chunked: boolean, sink: ExchangeSink) {
    this.req = req;
    this.head = head;
    this.chunked = chunked;
    this.sink = sink;
    req.signal?.addEventListener('abort', this);
  }

  /** The response head is in (the body may still stream). */
  resolve(res: UpstreamResponse): void {
    this.sink.resolve(res);
  }

  reject(err: unknown): void {
    this.sink.reject(err);
  }

  /** The exchange is over (answered, failed, or its body done): stop watching the signal. */
  unwatch(): void {
    this.req.signal?.removeEventListener('abort', this);
    this.holder = null;
  }

  handleEvent(): void {
    this.holder?.abortExchange(this, new UpstreamClientError(ABORTED, 'request aborted by the client'));
  }
}
