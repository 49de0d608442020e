// One client connection on the portico engine: strict heads (request-head.ts), streamed request
// bodies, one request at a time with the rest buffered (pipelining-safe, RFC 9112 §9.3.2), the
// layer contract built exactly as request-mapping.ts builds it for node:http, and responses
// written with their head as one buffer.
import type { Socket } from 'node:net';
import { RequestContext, formatServerTiming, isAcceptableRequestId } from '../../http/context.ts';
import { BadGatewayError, BadRequestError, RequestTimeoutError, UriTooLongError } from '../../http/errors.ts';
import { errorResponse } from '../../http/error-response.ts';
import type { PorticoRequest, PorticoResponse, RequestHeaders } from '../../http/types.ts';
import type { ConnectionOwner } from './connection-owner.ts';
import { type TrustedPeers, resolveClient } from '../trusted-peers.ts';
import { ChunkedDecoder, type DataSink, HeadFault, findLF } from './http1-syntax.ts';
import { RequestBody } from './request-body.ts';
import { type RequestHeadParser, hasToken, hostName } from './request-head.ts';
import { planResponse } from './response-head.ts';
import { ResponseWriter, type ResponseSink, writeWhole } from './response-writer.ts';

/** Bytes of pipelined requests held while one is in flight before the socket stops being read. */
const MAX_PENDING = 64 * 1024;

type Phase = 'head' | 'body' | 'wait' | 'closing';

const ignore = (): void => {};
const NO_BYTES = Buffer.alloc(0);
/** Headers of no request (idle, or a head refused before any field): shared, never written to. */
const NO_HEADERS: RequestHeaders = Object.freeze({}) as RequestHeaders;
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

function discard(body: PorticoResponse['body']): void {
  if (body !== null && typeof body === 'object' && 'destroy' in body) body.on('error', () => {}).destroy();
}

/**
 * Milliseconds as a whole number: a class field that only ever holds small integers is stored in
 * the object itself, while one that has held a fraction gets a 16-byte number box per connection
 * (docs/idle-memory.md). Integral until performance.now() passes 2^31 ms (~24 days of uptime);
 * past that the fields are boxed again, which costs memory, never correctness.
 */
const nowMs = (): number => Math.floor(performance.now());

/** The socket's connection, for the listeners below (one function for every socket, not two closures each). */
const CONNECTION = Symbol('h1Connection');
type OwnedSocket = Socket & { [CONNECTION]: H1Connection | null };

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this[CONNECTION]?.onData(chunk);
}

function onSocketClose(this: OwnedSocket): void {
  this[CONNECTION]?.onClose();
}

export class H1Connection implements DataSink, ResponseSink {
  readonly socket: Socket;
  private readonly owner: ConnectionOwner;
  private phase: Phase = 'head';
  private buf: Buffer | null = null;
  private responding = false;
  private keepAlive = true;
  private req: PorticoRequest | null = null;
  private reqHeaders: RequestHeaders = NO_HEADERS;
  private ctx: RequestContext | null = null;
  private edgeSlot = -1;
  private body: RequestBody | null = null;
  private bodyRemaining = 0;
  private decoder: ChunkedDecoder | null = null;
  /** Only while a streamed response is written (whole ones need none). */
  private writer: ResponseWriter | null = null;
  private response: PorticoResponse | null = null;
  private startBytes = 0;
  private headBytes = 0;
  lastActive = nowMs();
  /** When the current head's first byte arrived (0: none pending). */
  headStarted = 0;
  private requestStarted = 0;
  /** Nested pipelined requests answered synchronously, so the stack stays bounded. */
  private depth = 0;
  /** The scheme a trusted proxy says the client used (redirects to https must not loop). */
  private clientProto: 'http' | 'https' | null = null;
  /** The HSTS value for this request's host (https only); the operator's policy wins over an upstream's. */
  private hsts: string | null = null;
  /**
   * Whether this socket's peer is a trusted proxy, as `trustedBy` (the runtime's list, new on each
   * reload) answered it: the peer cannot change on a connection, so it is asked once per list.
   */
  private trustedBy: TrustedPeers | null = null;
  private peerTrusted = false;

  constructor(socket: Socket, owner: ConnectionOwner) {
    this.socket = socket;
    this.owner = owner;
    (socket as OwnedSocket)[CONNECTION] = this;
    socket.setNoDelay(true);
    socket.on('data', onSocketData);
    socket.on('error', ignore); // 'close' follows
    socket.on('close', onSocketClose);
  }

  get idle(): boolean {
    return this.phase === 'head' && !this.responding && this.buf === null;
  }

  /** Bytes from the client (onSocketData). */
  onData(chunk: Buffer): void {
    const phase = this.phase;
    if (phase === 'closing') return;
    if (phase === 'body') {
      const used = this.feedBody(chunk, 0);
      if (used < chunk.length && this.phase !== 'closing') this.stash(chunk.subarray(used));
      return;
    }
    this.stash(chunk);
    if (phase === 'wait') {
      if (this.buf!.length > MAX_PENDING) this.socket.pause(); // resumed when the response is done
      return;
    }
    if (this.headStarted === 0) this.headStarted = nowMs();
    // Re-parse only when a line completes (or the limit is crossed): a client dribbling one byte
    // at a time costs O(lines × size), not O(bytes × size).
    if (findLF(chunk, 0) !== -1 || this.buf!.length > this.owner.maxHead) this.readHead();
  }

  private stash(chunk: Buffer): void {
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
  }

  private readHead(): void {
    const buf = this.buf!;
    // The listener's one parser (ConnectionOwner.parser): all of it is read before the handler runs.
    const p = this.owner.parser;
    let end: number;
    try {
      end = p.parse(buf);
    } catch (err) {
      this.reject(err);
      return;
    }
    if (end === -1) return;
    if (p.target.length > this.owner.rules.limits.maxUrlLength) {
      // The same bound node:http's edge applies to the target itself (limits.ts checkHead).
      this.reject(new UriTooLongError(`request target longer than ${this.owner.rules.limits.maxUrlLength} bytes`));
      return;
    }
    this.headStarted = 0;
    this.buf = end < buf.length ? buf.subarray(end) : null;
    // An upgrade (WebSocket) leaves HTTP/1.1 framing for good: the socket goes to the same tunnel
    // as on the node engine. One with a body is served as a plain request (its Upgrade ignored).
    if (p.bodyKind === 'none' && p.headers.upgrade !== undefined && p.headers.connection !== undefined
      && hasToken(p.headers.connection, 'upgrade') && this.owner.acceptsUpgrades()) {
      this.handOff(p);
      return;
    }
    this.keepAlive = p.keepAlive && !this.owner.closing;
    this.reqHeaders = p.headers;
    const ctx = this.newContext(p.headers);
    this.requestStarted = Math.floor(ctx.startedAt);
    this.responding = true;
    let body: RequestBody | null = null;
    if (p.bodyKind !== 'none') {
      body = this.body = new RequestBody(this.socket);
      this.phase = 'body';
      this.bodyRemaining = p.contentLength;
      this.decoder = p.bodyKind === 'chunked' ? (this.decoder ?? new ChunkedDecoder()) : null;
      this.decoder?.reset();
      // RFC 9110 §10.1.1: the edge answers 100-continue itself, once the body is read, unless body
      // bytes came already or a final response went out first (then the connection closes after it).
      if (p.expectContinue && this.buf === null) body.expectContinue(() => this.sendContinue(body!));
    } else this.phase = 'wait';
    const req: PorticoRequest = this.req = {
      method: p.method, target: p.target, path: p.path, query: p.query, headers: p.headers, body, httpVersion: p.version,
    };
    if (body !== null && this.buf !== null) {
      const rest = this.buf;
      this.buf = null;
      const used = this.feedBody(rest, 0);
      if (used < rest.length) this.buf = rest.subarray(used);
      if ((this.phase as Phase) === 'closing') return; // the body was malformed and already answered
    }
    // ACME HTTP-01 (RFC 8555 §8.3) over plain HTTP, before any redirect or route, as in request-mapping.ts.
    const challenge = this.owner.scheme === 'http' ? this.owner.runtime.acmeChallenges?.answer(req.path) ?? null : null;
    if (challenge !== null) {
      this.writeResponse(challenge, ctx);
      return;
    }
    const rules = this.owner.rules;
    if (rules.policy !== null) {
      const redirect = rules.policy.redirect(p.method, this.clientProto ?? this.owner.scheme, ctx.host, p.headers.host ?? '', p.target);
      if (redirect !== null) {
        this.writeResponse({ status: redirect.status, headers: { location: redirect.location, 'content-type': 'text/plain' }, body: `Redirecting to ${redirect.location}\n` });
        return;
      }
      if (this.owner.scheme === 'https') this.hsts = rules.policy.hsts(ctx.host);
    }
    let result: PorticoResponse | Promise<PorticoResponse>;
    try {
      result = this.owner.runtime.handler(req, ctx);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (result instanceof Promise) result.then((r) => this.writeResponse(r, ctx), (err) => this.fail(err, ctx));
    else this.writeResponse(result, ctx);
  }

  /**
   * Gives the socket up to the owner's upgrade path: no listener of ours stays on it, and it is
   * paused so no byte is lost before the tunnel pipes it (node:http leaves it the same way).
   */
  private handOff(p: RequestHeadParser): void {
    const socket = this.socket;
    const head = this.buf ?? NO_BYTES;
    socket.off('data', onSocketData);
    socket.off('close', onSocketClose);
    socket.off('error', ignore);
    (socket as OwnedSocket)[CONNECTION] = null;
    socket.pause();
    this.phase = 'closing';
    this.buf = null;
    this.abandonWriter();
    this.owner.forget(this);
    this.owner.upgrade({ method: p.method, url: p.target, headers: p.headers, httpVersion: p.version, socket }, socket, head);
  }

  /** The per-request context, as request-mapping.ts builds it for node:http. */
  private newContext(headers: RequestHeaders): RequestContext {
    const peer = this.socket.remoteAddress ?? '';
    const trusted = this.owner.runtime.trusted;
    if (trusted !== this.trustedBy) {
      this.trustedBy = trusted;
      this.peerTrusted = trusted.has(peer);
    }
    const peerTrusted = this.peerTrusted;
    // An untrusted peer is the client (resolveClient's own first answer), without asking twice; so
    // is a trusted one that forwarded nothing (resolveClient's answer then: the peer, no proto).
    const client = peerTrusted && (headers['forwarded'] !== undefined || headers['x-forwarded-for'] !== undefined || headers['x-forwarded-proto'] !== undefined)
      ? resolveClient(peer, headers, trusted) : null;
    this.clientProto = client === null ? null : client.proto;
    const sentId = headers['x-request-id'];
    const ctx = this.ctx = new RequestContext(peer, peerTrusted, client === null ? peer : client.address, this.socket.remotePort ?? 0, this.owner.scheme,
      hostName(headers.host), peerTrusted && isAcceptableRequestId(sentId) ? sentId : undefined);
    this.edgeSlot = ctx.startTiming('edge', ctx.startedAt);
    return ctx;
  }

  private fail(err: unknown, ctx: RequestContext | null = this.ctx): void {
    if (ctx === null || ctx !== this.ctx) return; // the connection moved on (closed): nobody to answer
    this.owner.runtime.onError?.(err, ctx);
    this.writeResponse(errorResponse(err, this.reqHeaders, ctx), ctx);
  }

  private sendContinue(body: RequestBody): void {
    if (this.body === body && this.response === null && !this.socket.destroyed) this.socket.write(CONTINUE, 'latin1');
  }

  /** Feeds body bytes from chunk[pos..]; returns how far it read (the rest is the next request). */
  private feedBody(chunk: Buffer, pos: number): number {
    if (this.decoder !== null) {
      let end: number;
      try {
        end = this.decoder.feed(chunk, pos, chunk.length, this);
      } catch (err) {
        this.bodyFailed(err instanceof HeadFault ? new BadRequestError(err.message, 'BAD_CHUNKED_BODY') : err);
        return chunk.length;
      }
      if (this.decoder.done) this.endBody();
      return end;
    }
    const n = Math.min(this.bodyRemaining, chunk.length - pos);
    this.data(pos === 0 && n === chunk.length ? chunk : chunk.subarray(pos, pos + n));
    this.bodyRemaining -= n;
    if (this.bodyRemaining === 0) this.endBody();
    return pos + n;
  }

  data(chunk: Buffer): void {
    this.body?.deliver(chunk);
  }

  private endBody(): void {
    this.body!.push(null);
    this.body = null;
    this.decoder = null;
    this.phase = 'wait';
  }

  /** A malformed or late body: the request is unusable and so is the connection. */
  private bodyFailed(err: unknown): void {
    this.body?.destroy(err instanceof Error ? err : undefined);
    this.body = null;
    this.keepAlive = false;
    this.buf = null;
    if (this.response === null && this.responding) {
      // Nothing sent yet: answer now; whatever the handler returns later is dropped.
      const ctx = this.ctx!;
      this.writeResponse(errorResponse(err, this.reqHeaders, ctx), ctx);
      this.phase = 'closing';
    } else this.socket.destroy();
  }

  /** A head we refuse: answer, then close, since where the next request starts is unknown. */
  private reject(err: unknown): void {
    this.buf = null;
    this.keepAlive = false;
    this.headStarted = 0;
    this.reqHeaders = NO_HEADERS;
    this.req = { method: '', target: '', path: '', query: '', headers: {}, body: null, httpVersion: '1.1' };
    const ctx = this.newContext({});
    this.responding = true;
    this.writeResponse(errorResponse(err, {}, ctx), ctx);
  }

  private writeResponse(res: PorticoResponse, ctx: RequestContext | null = this.ctx): void {
    if (ctx !== this.ctx || this.socket.destroyed || !this.responding || this.response !== null) {
      discard(res.body);
      return;
    }
    ctx = ctx!;
    ctx.endTiming(this.edgeSlot);
    const req = this.req!;
    res.headers['x-request-id'] = ctx.id;
    res.headers['server-timing'] = formatServerTiming(ctx.timings);
    if (this.hsts !== null) res.headers['strict-transport-security'] = this.hsts;
    // An origin server with a clock MUST send Date (RFC 9110 §6.6.1), as node:http does; a
    // proxied response keeps its origin's.
    if (res.headers.date === undefined) res.headers.date = this.owner.date();
    // Answered before the request body is in: say we will close after it (RFC 9112 §9.6).
    const keepAlive = this.keepAlive && this.phase !== 'body' && !this.owner.closing;
    let plan = planResponse(res, req.method, req.httpVersion, keepAlive);
    if (plan === null) {
      // A layer or upstream produced a head that cannot be sent: never send half of it.
      discard(res.body);
      const err = new BadGatewayError('invalid response status or header field', 'BAD_RESPONSE_HEADER');
      this.owner.runtime.onError?.(err, ctx);
      res = errorResponse(err, this.reqHeaders, ctx);
      res.headers['x-request-id'] = ctx.id;
      plan = planResponse(res, req.method, req.httpVersion, keepAlive)!;
    }
    this.response = res;
    this.keepAlive = plan.keepAlive;
    // bytesWritten walks the socket's write queue: read it only when an access log wants the count.
    if (this.owner.runtime.onResponse !== undefined) this.startBytes = this.socket.bytesWritten;
    this.headBytes = plan.head.length;
    if (plan.stream === null) {
      discard(res.body);
      writeWhole(this.socket, plan);
      this.responseDone();
      return;
    }
    (this.writer = new ResponseWriter(this.socket, this)).send(plan);
  }

  /** The streamed response's body failed (ResponseSink); the writer destroys the socket next. */
  responseFailed(err: Error): void {
    if (this.ctx !== null) this.owner.runtime.onError?.(err, this.ctx);
  }

  private abandonWriter(): void {
    const writer = this.writer;
    this.writer = null;
    writer?.abandon();
  }

  /** The access log's figures: this response's share of the connection's bytes (nginx $bytes_sent). */
  private logResponse(): void {
    const ctx = this.ctx;
    const res = this.response;
    if (ctx === null || res === null || this.owner.runtime.onResponse === undefined) return;
    const sent = Math.max(0, this.socket.bytesWritten - this.startBytes);
    ctx.bytesSent = sent;
    ctx.bodyBytesSent = Math.max(0, sent - this.headBytes);
    this.owner.runtime.onResponse(this.req!, res, ctx);
  }

  /** The response is fully handed to the socket (ResponseSink). */
  responseDone(): void {
    // socket.bytesWritten counts what was handed to write(); a socket that failed keeps its count.
    this.logResponse();
    this.writer = null;
    this.responding = false;
    this.ctx = null;
    this.req = null;
    this.reqHeaders = NO_HEADERS; // an idle connection keeps nothing of its last request
    this.response = null;
    this.hsts = null;
    this.lastActive = nowMs();
    if (!this.keepAlive || this.phase === 'body' || this.phase === 'closing') {
      this.close();
      return;
    }
    this.phase = 'head';
    if (this.socket.isPaused()) this.socket.resume();
    if (this.buf !== null) {
      this.headStarted = nowMs();
      // The next pipelined request, only now (RFC 9112 §9.3.2). Synchronous answers would recurse
      // once per buffered request (thousands fit in MAX_PENDING): past a few, continue on a fresh stack.
      if (++this.depth < 8) this.readHead();
      else queueMicrotask(() => {
        if (this.phase === 'head' && this.buf !== null) this.readHead();
      });
      this.depth--;
    }
  }

  /** Ends the connection gracefully; unread input is drained and dropped so the FIN can arrive. */
  close(): void {
    this.phase = 'closing';
    this.buf = null;
    this.body?.destroy();
    this.body = null;
    this.lastActive = nowMs();
    this.socket.end();
    this.socket.resume();
  }

  /** The deadline sweep (one timer per listener): slow heads, slow bodies, idle connections. */
  sweep(now: number): void {
    const limits = this.owner.rules.limits;
    if (this.phase === 'closing') {
      // A peer that never closes its side after our FIN.
      if (now - this.lastActive > limits.keepAliveTimeout) this.socket.destroy();
      return;
    }
    if (this.phase === 'body' && limits.requestTimeout > 0 && now - this.requestStarted > limits.requestTimeout) {
      this.bodyFailed(new RequestTimeoutError('request body not received in time', 'REQUEST_TIMEOUT'));
      return;
    }
    if (this.phase !== 'head' || this.responding) return;
    if (this.headStarted !== 0 && now - this.headStarted > limits.headersTimeout) {
      this.reject(new RequestTimeoutError('request head not received in time', 'HEAD_TIMEOUT'));
    } else if (this.buf === null && now - this.lastActive > limits.keepAliveTimeout) this.close();
  }

  /** The socket has closed (onSocketClose). */
  onClose(): void {
    this.owner.forget(this);
    this.phase = 'closing';
    this.buf = null;
    this.abandonWriter();
    // The response was cut short: still one access-log line, as node:http's edge writes one.
    if (this.response !== null) this.logResponse();
    this.ctx?.abort();
    this.ctx = null;
    this.body?.destroy(Object.assign(new Error('client closed the connection'), { code: 'ECONNRESET' }));
    this.body = null;
  }
}
