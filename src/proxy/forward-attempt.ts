// One request's way to a server the balancer chose and, when a failure is safe to repeat, to the
// next ones (forward.ts builds it). It is the own client's exchange sink: the answer arrives in a
// method call from the connection's read, so the data plane pays one promise per request here
// rather than an async function awaiting the client's promise (each hop is a promise, a `then`
// lookup on the response and a microtask).
import type { Dispatcher } from 'undici';
import { Readable } from 'node:stream';
import type { PorticoRequest, PorticoResponse, ResponseHeaders } from '../http/types.ts';
import type { RequestContext } from '../http/context.ts';
import { GatewayTimeoutError } from '../http/errors.ts';
import { HOP_BY_HOP, connectionOptions } from '../http/headers.ts';
import type { UpstreamPool, UpstreamServer } from '../balancer/upstream-pool.ts';
import type { PickRequest } from '../balancer/policies/policy.ts';
import type { ExchangeRequest, ExchangeSink, UpstreamResponse as H1Response } from './h1-client/exchange.ts';
import { isRetryable } from './retryable.ts';
import { UpstreamResponse } from './upstream-response.ts';

/** Turns a failed attempt into the answer (forward.ts upstreamError), kept there with the other codes. */
export type UpstreamErrorOf = (err: unknown, server: UpstreamServer) => Error;
/** forward.ts AnswerHook: a response step of the layer around the proxy, run here before settling. */
export type AnswerStep = (res: PorticoResponse, req: PorticoRequest, ctx: RequestContext) => PorticoResponse;

export class ForwardAttempt implements ExchangeSink {
  readonly promise: Promise<PorticoResponse>;
  private readonly settle: (res: PorticoResponse) => void;
  private readonly fail: (err: unknown) => void;
  private readonly pool: UpstreamPool;
  private readonly req: PorticoRequest;
  private readonly ctx: RequestContext;
  private readonly pick: PickRequest;
  private readonly upstream: ExchangeRequest;
  private readonly errorOf: UpstreamErrorOf;
  private readonly slot: number;
  private readonly hook: AnswerStep | null;
  private server: UpstreamServer;
  private tried: Set<UpstreamServer> | null = null;
  /** The attempt in flight; a late word from an earlier one (there is none by design) is ignored. */
  private done = false;

  constructor(pool: UpstreamPool, req: PorticoRequest, ctx: RequestContext, pick: PickRequest, server: UpstreamServer,
    upstream: ExchangeRequest, slot: number, errorOf: UpstreamErrorOf, hook: AnswerStep | null = null) {
    const { promise, resolve, reject } = Promise.withResolvers<PorticoResponse>();
    this.promise = promise;
    this.settle = resolve;
    this.fail = reject;
    this.pool = pool;
    this.req = req;
    this.ctx = ctx;
    this.pick = pick;
    this.server = server;
    this.upstream = upstream;
    this.slot = slot;
    this.errorOf = errorOf;
    this.hook = hook;
  }

  /** Sends to the current server through its client. */
  start(): void {
    const server = this.server;
    this.ctx.upstreamAddress = server.address;
    if (server.client === 'portico') {
      server.h1.send(this.upstream, this);
      return;
    }
    const u = this.upstream;
    // undici needs a real AbortSignal (made by the context on first use).
    server.dispatcher.request({ method: u.method as Dispatcher.HttpMethod, path: u.path, headers: u.headers, body: u.body ?? undefined, signal: this.ctx.signal })
      .then((res) => {
        let out: PorticoResponse;
        try {
          out = toResponse(res, this.ctx.timings);
        } catch (err) {
          this.reject(err);
          return;
        }
        this.answered(out);
      }, (err: unknown) => this.reject(err));
  }

  /** ExchangeSink: the own client's response head is in. Runs inside the connection's read, so it never throws. */
  resolve(res: H1Response): void {
    const entries = res.serverTiming;
    // The upstream's own entries (e.g. an app worker's `app;dur=`) continue the journey's list.
    if (entries !== null) for (const entry of entries) this.ctx.timings.push({ name: entry, dur: -1 });
    this.answered(res);
  }

  /**
   * ExchangeSink: the attempt failed. Handled on a fresh microtask: the client may call this from
   * inside send() or a socket's close, and a retry must not re-enter either.
   */
  reject(err: unknown): void {
    queueMicrotask(() => this.failed(err));
  }

  private answered(out: PorticoResponse): void {
    if (this.done) return;
    this.done = true;
    const { pool, ctx, server } = this;
    try {
      ctx.endTiming(this.slot);
      pool.report(server, out.status < 500);
      const body = out.body;
      if (body instanceof Readable) {
        body.once('close', () => pool.release(server));
        // Aborts by our own client are not the server's fault (and not worth a line).
        body.once('error', (err) => { if (!ctx.aborted) pool.bodyFailed(server, err); });
      } else {
        pool.release(server); // the whole body came with the head (own client): the server is done
      }
      const cookie = pool.policy.setCookie?.(server, this.pick) ?? null;
      if (cookie !== null) appendSetCookie(out.headers, cookie);
      if (this.hook !== null) out = this.hook(out, this.req, ctx);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.settle(out);
  }

  private failed(err: unknown): void {
    if (this.done) return;
    const { pool, ctx, server } = this;
    server.failures++;
    // A client that left is no fault of the server's.
    if (!ctx.aborted) pool.report(server, false);
    pool.release(server);
    if (server.timedOut) {
      // The gunicorn answer for a worker killed by its timeout: 504 at once, no retry.
      this.finishWith(new GatewayTimeoutError(`app worker ${server.address} did not answer within its workerTimeout and was replaced`, 'WORKER_TIMEOUT', { cause: err }));
      return;
    }
    const next = this.retryTarget(err, (this.tried ??= new Set()).add(server));
    if (next === null) {
      this.finishWith(this.errorOf(err, server));
      return;
    }
    this.server = next;
    this.start();
  }

  private finishWith(err: unknown): void {
    this.done = true;
    this.ctx.endTiming(this.slot);
    this.fail(err);
  }

  /** The next server for a failed attempt, or null when the failure must be answered. */
  private retryTarget(err: unknown, tried: Set<UpstreamServer>): UpstreamServer | null {
    const pool = this.pool;
    if (this.ctx.aborted || tried.size > pool.settings.retries || !isRetryable(err, this.req)) return null;
    if (!pool.budget.withdraw()) return null;
    return pool.tryAcquire({ ...this.pick, exclude: tried });
  }
}

function appendSetCookie(headers: ResponseHeaders, cookie: string): void {
  const existing = headers['set-cookie'];
  headers['set-cookie'] = existing === undefined ? cookie : [...(Array.isArray(existing) ? existing : [existing]), cookie];
}

function toResponse(res: Dispatcher.ResponseData, timings: { name: string; dur: number }[]): PorticoResponse {
  const upstream = res.headers as Record<string, string | string[] | undefined>;
  const listed = upstream['connection'] === undefined ? null : connectionOptions(upstream['connection']);
  const headers: ResponseHeaders = {};
  for (const name in upstream) {
    const v = upstream[name];
    if (v === undefined || HOP_BY_HOP.has(name) || (listed !== null && listed.includes(name))) continue;
    if (name === 'server-timing') {
      // The upstream's own entries (e.g. the app worker's `app;dur=`) continue the journey's list.
      for (const entry of Array.isArray(v) ? v : [v]) timings.push({ name: entry, dur: -1 });
      continue;
    }
    headers[name] = v;
  }
  // Trailers (RFC 9110 §6.5) ride on the response, read lazily once the body has ended.
  return new UpstreamResponse(res, headers);
}
