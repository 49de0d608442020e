// One keep-alive HTTP/1.1 connection to an upstream server, carrying one exchange at a time (no
// pipelining, like nginx's upstream keepalive). Its life: connect → send head (+ body) → read the
// response head → body → back to the pool, or closed whenever anything about the framing is in
// doubt. Timeouts ride on the socket's own idle timer (no timer object per request): connect,
// then response head, then body idle, then keep-alive idle.
import net from 'node:net';
import { Readable } from 'node:stream';
import { HeadFault } from '../../edge/h1/http1-syntax.ts';
import type { DataSink } from '../../edge/h1/http1-syntax.ts';
import { ChunkedBody } from './chunked-body.ts';
import { badResponse, BODY_TIMEOUT, CONNECT_TIMEOUT, HEADERS_TIMEOUT, SOCKET_CLOSED, UpstreamClientError } from './errors.ts';
import type { Exchange, ExchangeHolder } from './exchange.ts';
import { RequestBodyWriter, type BodyWriterOwner } from './request-body.ts';
import { type ResponseBodyKind, ResponseHeadParser } from './response-head.ts';
import { UpstreamBody, type BodySource } from './response-body.ts';
import type { ConnectionHost } from './pool-options.ts';

const IDLE = 0, HEAD = 1, BODY = 2;
/**
 * One read buffer for every upstream connection of this process (net's `onread`): a read lands
 * here and is parsed at once, so the per-read 64 KiB allocation, Readable.push and 'data' emit
 * are gone (DESIGN.md: ~8% on the prototype). The price: any byte kept past the callback (a
 * partial head, body bytes, chunked framing) must be copied out, or the next read of another
 * connection overwrites it. Those places are marked `copy: shared read buffer`.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
/** RFC 9110 §9.2.2: methods a client may repeat automatically after a connection failure. */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export class UpstreamConnection implements DataSink, BodySource, BodyWriterOwner, ExchangeHolder {
  private readonly pool: ConnectionHost;
  readonly socket: net.Socket;
  private readonly writer: RequestBodyWriter;
  private readonly head: ResponseHeadParser;
  private readonly chunked = new ChunkedBody();
  private ex: Exchange | null = null;
  private phase = IDLE;
  private connected = false;
  /** Carried a whole exchange before: a close before any byte may be the keep-alive race (RFC 9112 §9.3.1). */
  private reused = false;
  private gotBytes = false;
  private pending: Buffer | null = null;
  private bodyKind: ResponseBodyKind = 'none';
  private remaining = 0;
  /** Body parts collected while the first read is decoded, to answer with one buffer when it is complete. */
  private parts: Buffer[] | null = null;
  private stream: UpstreamBody | null = null;
  private trailersDone: ((t: Record<string, string> | null) => void) | null = null;
  /** The socket's last error (ECONNREFUSED, ECONNRESET…), reported when it closes. */
  private lastError: Error | null = null;
  /** The socket's current idle timer (ms; 0 = none); may be shorter than `need` (see arm()). */
  private armed = -1;
  /** The idle timeout the current phase asks for (ms; 0 = none). */
  private need = 0;
  /** Idle time already seen in this phase by early fires of a shorter timer, and the byte count then. */
  private waited = 0;
  private activity = 0;
  /** Idle in the pool with its handle unref'd. */
  private unreferenced = false;

  constructor(pool: ConnectionHost) {
    this.pool = pool;
    const o = pool.options;
    this.head = new ResponseHeadParser(o.maxHeadSize);
    // true: keep reading; a full consumer pauses the socket itself (data()).
    const onread = { buffer: READ_BUFFER, callback: (n: number, buf: Uint8Array): boolean => { this.onData((buf as Buffer).subarray(0, n)); return true; } };
    this.socket = 'path' in o.connect
      ? net.connect({ path: o.connect.path, onread })
      : net.connect({ host: o.connect.host, port: o.connect.port, noDelay: true, onread });
    this.writer = new RequestBodyWriter(this.socket, this);
    this.arm(o.connectTimeout);
    this.socket.once('connect', () => this.onConnect());
    this.socket.on('timeout', () => this.onTimeout());
    this.socket.on('error', (err) => { this.lastError = err; }); // 'close' follows and carries the consequences
    this.socket.on('close', () => this.onClose());
  }

  get idle(): boolean {
    return this.phase === IDLE && this.connected && !this.socket.destroyed && this.socket.writable;
  }

  /** Sends an exchange; its head goes out in one write (buffered by the socket until connected). */
  send(ex: Exchange): void {
    this.ex = ex;
    ex.holder = this;
    this.phase = HEAD;
    this.pending = null;
    this.gotBytes = false;
    if (this.unreferenced) {
      this.unreferenced = false;
      this.socket.ref();
    }
    if (this.connected) this.arm(this.pool.options.headersTimeout);
    this.socket.write(ex.head, 'latin1');
    const body = ex.req.body;
    if (body !== null) this.writer.start(body, ex.chunked);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /**
   * Asks for an idle timeout for the phase that starts now. node allocates a timer (and a bound
   * function) per socket.setTimeout, and a keep-alive exchange changes phase twice (head wait,
   * then idle), so a running timer that is shorter is kept: the socket restarts it on every read and
   * write, so when it fires the socket has been idle exactly `armed` ms, and onTimeout() tops it up
   * to `need` unless that much idle time has passed. Phases start on a read or a write (the head
   * sent, a response read), so the kept timer counts from the phase's start, as a fresh one would.
   */
  private arm(ms: number): void {
    this.need = ms;
    this.waited = 0;
    if (ms === this.armed || (ms > 0 && this.armed > 0 && this.armed < ms)) return;
    this.setTimer(ms);
  }

  private setTimer(ms: number): void {
    this.armed = ms;
    this.socket.setTimeout(ms);
  }

  private onConnect(): void {
    this.connected = true;
    this.arm(this.phase === IDLE ? this.pool.options.keepAliveTimeout : this.pool.options.headersTimeout);
  }

  // ---- response

  /** Bytes read; `chunk` is a view of the shared read buffer, valid only until this returns. */
  private onData(chunk: Buffer): void {
    const ex = this.ex;
    if (ex === null) {
      this.destroy(); // bytes nobody asked for: this connection's framing can no longer be trusted
      return;
    }
    this.gotBytes = true;
    if (this.phase === BODY) {
      this.feedBody(chunk, 0);
      return;
    }
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    const head = this.head;
    let end: number;
    try {
      for (;;) {
        end = head.parse(buf, ex.req.method);
        if (end === -1) {
          this.pending = buf === chunk ? Buffer.from(buf) : buf; // copy: shared read buffer
          return;
        }
        if (head.status >= 200) break;
        // 1xx interim responses (RFC 9110 §15.2) are skipped: 100 Continue (Expect is answered by the
        // edge, never forwarded) and 103 Early Hints; a 101 would be an upgrade nobody asked for.
        if (head.status === 101) throw new HeadFault('syntax', 'unexpected 101 response');
        buf = buf.subarray(end);
      }
    } catch (err) {
      this.failHead(badResponse(err instanceof Error ? err.message : String(err), err));
      return;
    }
    this.bodyKind = head.bodyKind;
    this.remaining = head.contentLength;
    this.startBody(buf, end);
  }

  private startBody(buf: Buffer, pos: number): void {
    const kind = this.bodyKind;
    const avail = buf.length - pos;
    if (kind === 'none') {
      this.respond(null);
      this.finish(avail === 0);
    } else if (kind === 'length' && avail >= this.remaining) {
      this.respond(Buffer.from(buf.subarray(pos, pos + this.remaining))); // copy: shared read buffer
      this.finish(avail === this.remaining); // more than Content-Length: never reuse
    } else if (kind === 'chunked') {
      const chunked = this.chunked;
      chunked.reset();
      this.parts = [];
      let end: number;
      try {
        end = chunked.feed(buf, pos, buf.length, this);
      } catch (err) {
        this.parts = null;
        this.failHead(badResponse(err instanceof Error ? err.message : String(err), err));
        return;
      }
      const parts = this.parts;
      this.parts = null;
      if (chunked.done) {
        const whole = parts.length === 0 ? null : parts.length === 1 ? parts[0] : Buffer.concat(parts);
        const trailers = chunked.trailers;
        if (trailers === null) this.respond(whole);
        // Trailers need chunked framing towards the client too, which a whole buffer would not get.
        else this.respondWith(endedStream(whole), Promise.resolve(trailers));
        this.finish(end === buf.length);
      } else {
        this.openStream();
        for (const p of parts) this.data(p);
      }
    } else {
      this.openStream();
      if (avail > 0) this.feedBody(buf, pos);
    }
  }

  private openStream(): void {
    this.phase = BODY;
    const stream = new UpstreamBody(this);
    this.stream = stream;
    let trailers: Promise<Record<string, string> | null> | undefined;
    if (this.bodyKind === 'chunked') {
      const t = Promise.withResolvers<Record<string, string> | null>();
      trailers = t.promise;
      this.trailersDone = t.resolve;
    }
    this.arm(this.pool.options.bodyTimeout);
    this.respondWith(stream, trailers);
  }

  /** Decoded body bytes (DataSink for the chunked decoder, and the length / close readers). */
  data(view: Buffer): void {
    const chunk = Buffer.from(view); // copy: shared read buffer
    if (this.parts !== null) this.parts.push(chunk);
    else if (this.stream !== null && !this.stream.push(chunk)) {
      // The consumer is full: stop reading, and stop the body clock (a slow client is not a slow upstream).
      this.socket.pause();
      this.arm(0);
    }
  }

  resumeReading(): void {
    if (this.phase === BODY && this.socket.isPaused()) {
      this.arm(this.pool.options.bodyTimeout);
      this.socket.resume();
    }
  }

  private feedBody(buf: Buffer, pos: number): void {
    const kind = this.bodyKind;
    if (kind === 'close') {
      this.data(pos === 0 ? buf : buf.subarray(pos));
    } else if (kind === 'length') {
      const n = Math.min(this.remaining, buf.length - pos);
      this.data(buf.subarray(pos, pos + n));
      this.remaining -= n;
      if (this.remaining === 0) this.finish(pos + n === buf.length);
    } else {
      let end: number;
      try {
        end = this.chunked.feed(buf, pos, buf.length, this);
      } catch (err) {
        this.abandon(badResponse(err instanceof Error ? err.message : String(err), err));
        return;
      }
      if (this.chunked.done) this.finish(end === buf.length);
    }
  }

  private respond(body: Buffer | null): void {
    this.respondWith(body, undefined);
  }

  private respondWith(body: Buffer | Readable | null, trailers: Promise<Record<string, string> | null> | undefined): void {
    const head = this.head;
    const res = trailers === undefined
      ? { status: head.status, headers: head.headers, body, serverTiming: head.serverTiming, checkedFields: head.checked }
      : { status: head.status, headers: head.headers, body, serverTiming: head.serverTiming, checkedFields: head.checked, trailers };
    this.ex!.resolve(res);
  }

  /**
   * The response is fully read: end the stream, then reuse the connection when nothing is left in
   * doubt: no extra bytes (`clean`), keep-alive on both sides, and no request body still going up
   * (an early answer leaves the connection mid-request).
   */
  private finish(clean: boolean): void {
    const ex = this.ex;
    // A consumer may destroy the body from inside push() (abandon() ran): nothing left to finish.
    if (ex === null) return;
    this.ex = null;
    ex.unwatch();
    this.phase = IDLE;
    const uploading = this.writer.active;
    this.writer.detach();
    const stream = this.stream;
    if (stream !== null) {
      this.stream = null;
      stream.source = null;
      stream.push(null);
    }
    const trailersDone = this.trailersDone;
    if (trailersDone !== null) {
      this.trailersDone = null;
      trailersDone(this.chunked.trailers);
    }
    const hint = this.head.keepAliveHint;
    const reusable = clean && this.head.keepAlive && !uploading && !this.socket.destroyed && (hint === -1 || hint > 1000);
    if (!reusable) {
      this.destroy();
      return;
    }
    this.reused = true;
    if (this.socket.isPaused()) this.socket.resume();
    // A server's shorter Keep-Alive timeout wins, a second early so our request never meets its close.
    const keepAlive = this.pool.options.keepAliveTimeout;
    this.arm(hint === -1 ? keepAlive : Math.min(keepAlive, hint - 1000));
    // An idle pooled connection must not keep the process alive (undici's habit too).
    this.unreferenced = true;
    this.socket.unref();
    this.pool.release(this, true);
  }

  // ---- failures

  /** Before the response head was handed out: the exchange fails, the connection closes. */
  private failHead(err: unknown): void {
    const ex = this.ex;
    this.ex = null;
    this.phase = IDLE;
    this.writer.detach();
    this.destroy();
    if (ex !== null) {
      ex.unwatch();
      ex.reject(err);
    }
  }

  /** After the head went out (the body is streaming): the only honest signal left is an aborted body. */
  abandon(err: Error): void {
    const stream = this.stream;
    const ex = this.ex;
    this.stream = null;
    this.ex = null;
    this.phase = IDLE;
    ex?.unwatch();
    this.writer.detach();
    this.destroy();
    const trailersDone = this.trailersDone;
    this.trailersDone = null;
    trailersDone?.(null);
    if (stream !== null) {
      stream.source = null;
      stream.destroy(err);
    }
  }

  /** The caller's signal aborted: never return this connection to the pool. */
  abortExchange(_ex: Exchange, err: Error): void {
    if (this.phase === BODY) this.abandon(err);
    else this.failHead(err);
  }

  bodySent(): void {
    // Nothing to do: the response decides the exchange's end; finish() checks `writer.active`.
  }

  bodyFailed(err: Error): void {
    // The request body broke (client gone, size cap): the upstream got a truncated request.
    if (this.phase === HEAD) this.failHead(err);
    else if (this.phase === BODY) this.abandon(err);
  }

  private onTimeout(): void {
    const need = this.need;
    if (need === 0) return;
    // Idle time seen by an earlier early fire counts only if no byte moved since.
    const seen = this.socket.bytesRead + this.socket.bytesWritten;
    const idle = (seen === this.activity ? this.waited : 0) + this.armed;
    if (idle < need) {
      this.waited = idle;
      this.activity = seen;
      this.setTimer(need - idle);
      return;
    }
    const phase = this.phase;
    if (phase === IDLE) {
      this.destroy(); // keep-alive idle time is over (or an idle connect timed out)
    } else if (!this.connected) {
      this.failHead(new UpstreamClientError(CONNECT_TIMEOUT, 'connect timeout'));
    } else if (phase === HEAD) {
      this.failHead(new UpstreamClientError(HEADERS_TIMEOUT, 'no response head in time'));
    } else {
      this.abandon(new UpstreamClientError(BODY_TIMEOUT, 'no response body bytes in time'));
    }
  }

  private onClose(): void {
    this.pool.forget(this);
    const ex = this.ex;
    if (ex === null) return;
    if (this.phase === BODY) {
      if (this.bodyKind === 'close') this.finish(false); // close-delimited: the close is the end (RFC 9112 §6.3 rule 8)
      else this.abandon(new UpstreamClientError(SOCKET_CLOSED, 'upstream closed the connection mid-body', this.lastError ?? undefined));
      return;
    }
    this.ex = null;
    this.phase = IDLE;
    this.writer.detach();
    ex.holder = null;
    // A reused connection closed before any byte of the answer: the server most likely closed it
    // as idle while we wrote (RFC 9112 §9.3.1). Send once more on a fresh connection when that
    // cannot repeat a side effect: an idempotent method whose body (if any) was never read.
    const body = ex.req.body;
    if (this.reused && !this.gotBytes && !ex.retried && IDEMPOTENT.has(ex.req.method) && (body === null || (!body.readableDidRead && !body.destroyed))) {
      ex.retried = true;
      this.pool.dispatch(ex, true);
      return;
    }
    ex.unwatch();
    const cause = this.lastError as (Error & { code?: string }) | null;
    // Connect failures keep their system code (ECONNREFUSED, ENOENT…); a close under a sent request
    // is a reset when the system says so, else undici's "other side closed".
    ex.reject(cause !== null && cause.code !== undefined ? cause : new UpstreamClientError(SOCKET_CLOSED, this.connected ? 'upstream closed the connection' : 'connection failed', cause ?? undefined));
  }
}

/** A body already complete, as a stream (the rare whole chunked response that carries trailers). */
function endedStream(body: Buffer | null): Readable {
  const stream = new Readable({ read() {} });
  if (body !== null) stream.push(body);
  stream.push(null);
  return stream;
}
