// One h2 request/response on node:http2's own stream API (no compat objects): the response
// written straight onto the stream (a complete payload as HEADERS + DATA in one go, a stream with
// backpressure and trailers), the access-log figures, and what happens when the client resets the
// stream or is too slow with its body.
import { constants, type ServerHttp2Stream } from 'node:http2';
import type { PorticoRequest, PorticoResponse } from '../../http/types.ts';
import { RequestContext, formatServerTiming } from '../../http/context.ts';
import { BadGatewayError, RequestTimeoutError } from '../../http/errors.ts';
import { errorResponse } from '../../http/error-response.ts';
import type { EdgeRuntime } from '../request-mapping.ts';
import { BodyPump } from './body-pump.ts';
import type { H2RequestBody } from './request-body.ts';
import { planH2Response } from './response-head.ts';

const WAITING = 0;
const RESPONDING = 1;
const DONE = 2;

/** Drops a body we will not send (HEAD, 304, client gone); an early destroy may report an error. */
function discard(body: PorticoResponse['body']): void {
  if (body === null || typeof body !== 'object' || !('destroy' in body)) return;
  body.on('error', () => {});
  body.destroy();
}

export class H2Exchange {
  private readonly runtime: EdgeRuntime;
  private readonly stream: ServerHttp2Stream;
  readonly req: PorticoRequest;
  readonly ctx: RequestContext;
  private readonly edgeSlot: number;
  private readonly body: H2RequestBody | null;
  /** The operator's HSTS value for this host (set before the handler runs), or null. */
  hsts: string | null = null;
  private state = WAITING;
  private response: PorticoResponse | null = null;
  private pump: BodyPump | null = null;
  /** The streamed body ends with trailers: the stream must stay open until they are sent. */
  private withTrailers = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(runtime: EdgeRuntime, stream: ServerHttp2Stream, req: PorticoRequest, ctx: RequestContext, edgeSlot: number, body: H2RequestBody | null) {
    this.runtime = runtime;
    this.stream = stream;
    this.req = req;
    this.ctx = ctx;
    this.edgeSlot = edgeSlot;
    this.body = body;
    // 'on', not 'once': a stream closes once, and once() would wrap the listener for every stream.
    stream.on('close', this.onClose);
  }

  /**
   * requestTimeout for the body: past it a body still arriving fails with 408 (or, once the
   * response has started, the stream is reset). A body nobody reads holds no one up (flow control
   * caps what the client can send), so it is left alone.
   */
  limitBody(ms: number): void {
    this.timer = setTimeout(() => this.timedOut(), ms);
  }

  /** `100 Continue` as an interim HEADERS frame (RFC 9113 §8.1), only before any final response. */
  sendContinue(): void {
    if (this.state === WAITING && !this.stream.headersSent && !this.stream.destroyed) this.stream.additionalHeaders({ ':status': 100 });
  }

  fail(err: unknown): void {
    if (this.state !== WAITING) return;
    this.runtime.onError?.(err, this.ctx);
    this.send(errorResponse(err, this.req.headers, this.ctx));
  }

  send(r: PorticoResponse): void {
    const stream = this.stream;
    if (this.state !== WAITING || stream.destroyed || stream.closed) {
      discard(r.body);
      return;
    }
    this.state = RESPONDING;
    const ctx = this.ctx;
    ctx.endTiming(this.edgeSlot);
    const headers = r.headers;
    headers['x-request-id'] = ctx.id;
    headers['server-timing'] = formatServerTiming(ctx.timings);
    // The operator's HSTS policy wins over an upstream's own (one policy per host, RFC 6797 §8.1).
    if (this.hsts !== null) headers['strict-transport-security'] = this.hsts;
    let plan = planH2Response(r, this.req.method);
    // Asked only for a streamed body, after the head is planned: an upstream response builds its
    // trailers promise only when read. None with a complete payload (it goes out with its length).
    let trailers = plan !== null && plan.stream !== null ? r.trailers ?? null : null;
    if (plan !== null) {
      try {
        this.stream.respond(plan.fields, plan.stream === null ? { endStream: plan.payload === null } : { waitForTrailers: trailers !== null });
      } catch {
        plan = null; // node refused a field the check let through (a repeated single-value field)
      }
    }
    if (plan === null) {
      // Never send half a head: a layer or upstream produced one that cannot go out.
      discard(r.body);
      const err = new BadGatewayError('invalid response status or header field', 'BAD_RESPONSE_HEADER');
      this.runtime.onError?.(err, ctx);
      r = errorResponse(err, this.req.headers, ctx);
      r.headers['x-request-id'] = ctx.id;
      plan = planH2Response(r, this.req.method)!;
      trailers = null;
      stream.respond(plan.fields, { endStream: plan.payload === null });
    }
    this.response = r;
    if (plan.stream === null) {
      discard(r.body);
      if (plan.payload !== null) stream.end(plan.payload);
      this.finish(plan.payload === null ? 0 : plan.payload.length);
      return;
    }
    this.withTrailers = trailers !== null;
    const pump = this.pump = new BodyPump(stream, plan.stream, plan.length, trailers, (err) => {
      if (err !== null) this.runtime.onError?.(err, ctx);
      this.finish(pump.bytes);
    });
  }

  /** The response is handed to the stream: log it, and stop a request body nobody will finish reading. */
  private finish(bodyBytes: number): void {
    if (this.state === DONE) return;
    this.state = DONE;
    this.clearTimer();
    const body = this.body;
    // RFC 9113 §8.1: a complete response before the whole request lets the server ask the client
    // to stop sending with RST_STREAM(NO_ERROR); node sends it after the queued DATA. (A body
    // never read is closed the same way by node itself.)
    if (body !== null && body.attached && !body.ended && !this.withTrailers && !this.stream.destroyed) this.stream.close(constants.NGHTTP2_NO_ERROR);
    this.log(bodyBytes);
  }

  private log(bodyBytes: number): void {
    const runtime = this.runtime;
    if (runtime.onResponse === undefined || this.response === null) return;
    // HPACK makes the head's wire size unknowable per stream: both figures count the body.
    this.ctx.bodyBytesSent = bodyBytes;
    this.ctx.bytesSent = bodyBytes;
    runtime.onResponse(this.req, this.response, this.ctx);
  }

  private readonly onClose = (): void => {
    this.clearTimer();
    const body = this.body;
    if (body !== null && !body.ended && !body.destroyed) body.destroy(Object.assign(new Error('client closed the stream'), { code: 'ECONNRESET' }));
    if (this.state === DONE) return;
    // Reset or closed before the response was through: the layers stop (the proxy aborts its
    // upstream request), and a cut response still gets its access-log line.
    this.state = DONE;
    this.ctx.abort();
    const pump = this.pump;
    if (pump !== null) pump.abandon();
    this.log(pump === null ? 0 : pump.bytes);
  };

  private timedOut(): void {
    this.timer = null;
    const body = this.body;
    if (body === null || !body.attached || body.ended || this.state === DONE) return;
    const err = new RequestTimeoutError('request body not received in time', 'REQUEST_TIMEOUT');
    body.destroy(err);
    if (this.state === WAITING) this.fail(err);
    // Reset (RST_STREAM INTERNAL_ERROR), not close(): close() ends the writable side first, which
    // would make a cut response look complete.
    else if (!this.stream.destroyed) this.stream.destroy(err);
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
