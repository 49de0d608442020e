// Prototype B: a per-process pool of keep-alive HTTP/1.1 connections to one upstream, with its
// own strict response parser. One request per connection at a time (no upstream pipelining,
// like nginx's upstream keepalive). The response body is handed out whole when it arrived with
// the head (the common small-response case: no stream object at all), streamed otherwise.
import net from 'node:net';
import { Readable } from 'node:stream';
import { BadGatewayError } from '../../src/http/errors.ts';
import { HOP_BY_HOP, connectionOptions } from '../../src/http/headers.ts';
import type { PorticoRequest, PorticoResponse } from '../../src/http/types.ts';
import { ChunkedDecoder, type DataSink, HeadFault, LAST_CHUNK, chunkHeader } from '../../src/edge/h1/http1-syntax.ts';
import { type ResponseBodyKind, ResponseHeadParser } from './upstream-response.ts';

export interface UpstreamOptions {
  readonly host: string;
  readonly port: number;
  /** Open connections at most; requests past it wait in a FIFO queue. */
  readonly maxConnections: number;
  /** Idle connections kept (nginx `keepalive 64`). */
  readonly maxIdle: number;
  /** Response head size limit: past it the answer is 502 (nginx: "upstream sent too big header"). */
  readonly maxHead: number;
}

interface Exchange {
  readonly req: PorticoRequest;
  readonly resolve: (res: PorticoResponse) => void;
  readonly reject: (err: unknown) => void;
  retried: boolean;
}

/** Not forwarded: hop-by-hop (RFC 9110 §7.6.1), `expect` (answered by the edge) and the framing we redo. */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'expect', 'content-length']);
/** RFC 9110 §9.2.2: idempotent requests may be retried automatically after a connection failure. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export class UpstreamPool {
  readonly options: UpstreamOptions;
  /** host:port, for ctx.upstreamAddress and a Host field when the client sent none. */
  readonly address: string;
  private readonly idle: UpstreamConnection[] = [];
  private readonly queue: Exchange[] = [];
  private open = 0;

  constructor(options: UpstreamOptions) {
    this.options = options;
    this.address = `${options.host}:${options.port}`;
  }

  request(req: PorticoRequest): Promise<PorticoResponse> {
    return new Promise((resolve, reject) => this.dispatch({ req, resolve, reject, retried: false }));
  }

  dispatch(ex: Exchange): void {
    const conn = this.idle.pop();
    if (conn !== undefined) conn.send(ex);
    else if (this.open < this.options.maxConnections) {
      this.open++;
      new UpstreamConnection(this).send(ex);
    } else this.queue.push(ex);
  }

  /** A connection finished an exchange cleanly and may carry another. LIFO keeps few connections warm. */
  release(conn: UpstreamConnection): void {
    const next = this.queue.shift();
    if (next !== undefined) conn.send(next);
    else if (this.idle.length < this.options.maxIdle) this.idle.push(conn);
    else conn.destroy();
  }

  /** A connection closed: forget it, and let a queued request open a fresh one. */
  forget(conn: UpstreamConnection): void {
    this.open--;
    const i = this.idle.lastIndexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    const next = this.queue.shift();
    if (next !== undefined) this.dispatch(next);
  }
}

type Phase = 'idle' | 'head' | 'body';

class UpstreamConnection implements DataSink {
  private readonly pool: UpstreamPool;
  private readonly socket: net.Socket;
  private ex: Exchange | null = null;
  private phase: Phase = 'idle';
  /** Completed at least one exchange: a close before any byte may be a keep-alive race (RFC 9112 §9.3.1). */
  private reused = false;
  private gotBytes = false;
  private reusable = true;
  private sendingBody = false;
  private pending: Buffer | null = null;
  private readonly head: ResponseHeadParser;
  // Body being read.
  private bodyKind: ResponseBodyKind = 'none';
  private remaining = 0;
  private readonly decoder = new ChunkedDecoder();
  private parts: Buffer[] | null = null;
  private stream: UpstreamBody | null = null;

  constructor(pool: UpstreamPool) {
    this.pool = pool;
    this.head = new ResponseHeadParser(pool.options.maxHead);
    const { host, port } = pool.options;
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', () => {}); // 'close' follows and carries the consequences
    this.socket.on('close', () => this.onClose());
  }

  destroy(): void {
    this.socket.destroy();
  }

  resumeReading(): void {
    if (this.socket.isPaused()) this.socket.resume();
  }

  send(ex: Exchange): void {
    this.ex = ex;
    this.phase = 'head';
    this.pending = null;
    this.gotBytes = false;
    this.reusable = true;
    const req = ex.req;
    const headers = req.headers;
    // The request head goes out as one string: method, origin-form target, end-to-end fields only.
    const listed = headers.connection === undefined ? null : connectionOptions(headers.connection);
    let head = req.method + ' ' + req.target + ' HTTP/1.1\r\n';
    for (const name in headers) {
      if (NOT_FORWARDED.has(name) || (listed !== null && listed.includes(name))) continue;
      head += name + ': ' + headers[name] + '\r\n';
    }
    // RFC 9112 §3.2: an HTTP/1.1 request carries Host; an HTTP/1.0 client may have sent none.
    if (headers.host === undefined) head += 'host: ' + this.pool.address + '\r\n';
    const body = req.body;
    const cl = headers['content-length'];
    // The edge validated CL; a body without one was chunked and is re-chunked (TE is hop-by-hop).
    if (cl !== undefined) head += 'content-length: ' + cl + '\r\n';
    else if (body !== null) head += 'transfer-encoding: chunked\r\n';
    head += '\r\n';
    this.socket.write(head, 'latin1');
    if (body !== null) this.sendBody(body, cl === undefined);
  }

  private sendBody(body: Readable, chunked: boolean): void {
    const socket = this.socket;
    this.sendingBody = true;
    const resume = () => body.resume();
    body.on('data', (chunk: Buffer) => {
      if (socket.destroyed) return;
      let ok: boolean;
      if (chunked) {
        socket.cork();
        socket.write(chunkHeader(chunk.length), 'latin1');
        socket.write(chunk);
        ok = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else ok = socket.write(chunk);
      if (!ok) {
        body.pause();
        socket.once('drain', resume);
      }
    });
    body.once('end', () => {
      this.sendingBody = false;
      if (chunked && !socket.destroyed) socket.write(LAST_CHUNK, 'latin1');
    });
    body.once('error', () => socket.destroy());
  }

  private onData(chunk: Buffer): void {
    const phase = this.phase;
    if (phase === 'idle') {
      this.destroy(); // bytes nobody asked for: this connection's framing can no longer be trusted
      return;
    }
    this.gotBytes = true;
    if (phase === 'body') {
      this.feedBody(chunk, 0);
      return;
    }
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    const head = this.head;
    let end: number;
    try {
      for (;;) {
        end = head.parse(buf, this.ex!.req.method === 'HEAD');
        if (end === -1) {
          this.pending = buf;
          return;
        }
        // 1xx interim responses (RFC 9110 §15.2) are dropped here: the prototype never forwards
        // Expect, and 101 would mean an upgrade we did not ask for.
        if (head.status >= 200) break;
        if (head.status === 101) throw new HeadFault('syntax', 'unexpected 101 response');
        buf = buf.subarray(end);
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    if (!head.keepAlive) this.reusable = false;
    this.bodyKind = head.bodyKind;
    this.remaining = head.contentLength;
    if (head.bodyKind === 'chunked') this.decoder.reset();
    else if (head.bodyKind === 'close') this.reusable = false;
    this.startBody(buf, end);
  }

  private startBody(buf: Buffer, pos: number): void {
    const kind = this.bodyKind;
    const avail = buf.length - pos;
    if (kind === 'none') {
      if (avail > 0) this.reusable = false;
      this.respond(null);
      this.finish();
    } else if (kind === 'length' && avail >= this.remaining) {
      if (avail > this.remaining) this.reusable = false; // more than Content-Length: never reuse
      this.respond(buf.subarray(pos, pos + this.remaining));
      this.finish();
    } else if (kind === 'chunked') {
      this.parts = [];
      let end: number;
      try {
        end = this.decoder.feed(buf, pos, buf.length, this);
      } catch (err) {
        this.fail(err);
        return;
      }
      if (this.decoder.done) {
        if (end < buf.length) this.reusable = false;
        const parts = this.parts;
        this.parts = null;
        this.respond(parts.length === 1 ? parts[0] : Buffer.concat(parts));
        this.finish();
      } else {
        const parts = this.parts;
        this.parts = null;
        this.openStream();
        for (const p of parts) this.data(p);
      }
    } else {
      this.openStream();
      if (avail > 0) this.feedBody(buf, pos);
    }
  }

  private openStream(): void {
    this.phase = 'body';
    this.stream = new UpstreamBody(this);
    this.respond(this.stream);
  }

  data(chunk: Buffer): void {
    if (this.parts !== null) this.parts.push(chunk);
    else if (this.stream !== null && !this.stream.push(chunk)) this.socket.pause();
  }

  private feedBody(buf: Buffer, pos: number): void {
    const kind = this.bodyKind;
    if (kind === 'close') {
      this.data(pos === 0 ? buf : buf.subarray(pos));
    } else if (kind === 'length') {
      const n = Math.min(this.remaining, buf.length - pos);
      this.data(buf.subarray(pos, pos + n));
      this.remaining -= n;
      if (this.remaining === 0) {
        if (pos + n < buf.length) this.reusable = false;
        this.finish();
      }
    } else {
      let end: number;
      try {
        end = this.decoder.feed(buf, pos, buf.length, this);
      } catch (err) {
        this.abortBody(err);
        return;
      }
      if (this.decoder.done) {
        if (end < buf.length) this.reusable = false;
        this.finish();
      }
    }
  }

  private respond(body: PorticoResponse['body']): void {
    this.ex!.resolve({ status: this.head.status, headers: this.head.headers, body });
  }

  /** The response is fully read: end the stream, then reuse or close the connection. */
  private finish(): void {
    this.ex = null;
    this.phase = 'idle';
    const stream = this.stream;
    if (stream !== null) {
      this.stream = null;
      stream.conn = null;
      stream.push(null);
    }
    // A body still going up means the upstream answered early: the connection is mid-message.
    if (this.reusable && !this.sendingBody && !this.socket.destroyed) {
      this.reused = true;
      this.pool.release(this);
    } else this.destroy();
  }

  /** Head-level failure: 502 to the client, and this connection is finished (RFC 9112 §6.3 rule 5). */
  private fail(err: unknown): void {
    const ex = this.ex;
    this.ex = null;
    this.phase = 'idle';
    this.destroy();
    const message = err instanceof Error ? err.message : String(err);
    ex?.reject(new BadGatewayError(`invalid response from upstream: ${message}`, 'UPSTREAM_FRAMING', { cause: err }));
  }

  /** Failure after the head went to the client: the only honest signal left is an aborted body. */
  abortBody(err: unknown): void {
    const stream = this.stream;
    this.stream = null;
    this.ex = null;
    this.phase = 'idle';
    this.destroy();
    if (stream !== null) {
      stream.conn = null;
      stream.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private onClose(): void {
    this.pool.forget(this);
    const ex = this.ex;
    if (ex === null) return;
    if (this.phase === 'body') {
      if (this.bodyKind === 'close') this.finish(); // close-delimited: the close is the end (rule 8)
      else this.abortBody(new Error('upstream closed the connection mid-body'));
      return;
    }
    this.ex = null;
    this.phase = 'idle';
    // A reused connection closed before any byte of the answer: the server most likely timed it
    // out as we wrote. Retry once on another connection if that cannot repeat a side effect.
    if (this.reused && !this.gotBytes && !ex.retried && ex.req.body === null && IDEMPOTENT.has(ex.req.method)) {
      ex.retried = true;
      this.pool.dispatch(ex);
      return;
    }
    ex.reject(new BadGatewayError('upstream closed the connection before responding', 'UPSTREAM_CLOSED'));
  }
}

/** A streamed response body: pull resumes the upstream socket, destroy aborts the exchange. */
class UpstreamBody extends Readable {
  conn: UpstreamConnection | null;

  constructor(conn: UpstreamConnection) {
    super();
    this.conn = conn;
  }

  override _read(): void {
    this.conn?.resumeReading();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // Destroyed before its end (the client went away): the connection is mid-response, close it.
    const conn = this.conn;
    this.conn = null;
    conn?.abortBody(err ?? new Error('response body destroyed'));
    callback(err);
  }
}
