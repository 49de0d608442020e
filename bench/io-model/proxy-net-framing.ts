// Prototype B: the proxy owns HTTP/1.1 framing on `net` sockets. Strict request heads
// (src/edge/h1/request-head.ts), streamed request bodies, one request at a time per connection with the
// rest buffered (pipelining-safe, RFC 9112 §9.3.2), the project's compose() chain, and a
// per-process keep-alive upstream pool with its own response parser (upstream-pool.ts).
// The response head goes out as one buffer, with the body when it is small (cork otherwise).
//
//   node bench/io-model/proxy-net-framing.ts --port 8082 --origin http://127.0.0.1:8080 [--layers 5] [--procs 2]
import net from 'node:net';
import { Readable } from 'node:stream';
import { compose } from '../../src/http/compose.ts';
import type { RequestContext } from '../../src/http/context.ts';
import { BadRequestError, InternalServerError, RequestTimeoutError } from '../../src/http/errors.ts';
import { errorResponse } from '../../src/http/error-response.ts';
import type { Handler, PorticoRequest, PorticoResponse, RequestHeaders } from '../../src/http/types.ts';
import {
  ChunkedDecoder, type DataSink, HeadFault, LAST_CHUNK, chunkHeader, parseContentLength, serializeFields, statusLine,
} from '../../src/edge/h1/http1-syntax.ts';
import { DEFAULT_HEAD_LIMITS as DEFAULT_LIMITS, RequestHeadParser, hostName } from '../../src/edge/h1/request-head.ts';
import { type ServerOptions, launch, newContext, noopLayers, parseServerArgs } from './server-common.ts';
import { UpstreamPool } from './upstream-pool.ts';

/** Bytes of pipelined requests we hold while one is in flight before we stop reading. */
const MAX_PENDING = 64 * 1024;
/** Deadlines, checked by one sweep per second rather than a timer per socket per request. */
const KEEPALIVE_IDLE_MS = 75_000;
const HEAD_TIMEOUT_MS = 10_000;
/** Small bodies are copied next to the head so head and body leave in one write(2). */
const COALESCE_LIMIT = 4096;

/** Drops a response body we will not send; its error, if any, has nobody left to tell. */
function discard(body: PorticoResponse['body']): void {
  if (body instanceof Readable) body.on('error', () => {}).destroy();
}

interface Edge {
  readonly handler: Handler;
  readonly connections: Set<ClientConnection>;
}

type Phase = 'head' | 'body' | 'wait' | 'closing';

/** A streamed request body: pull resumes the client socket. */
class RequestBody extends Readable {
  private readonly socket: net.Socket;
  constructor(socket: net.Socket) {
    super();
    this.socket = socket;
    // A malformed body is answered by the edge (400 and close); a consumer that never attached
    // (the handler was not called yet) must not turn that into an uncaught 'error'.
    this.on('error', () => {});
  }
  override _read(): void {
    if (this.socket.isPaused()) this.socket.resume();
  }
}

class ClientConnection implements DataSink {
  readonly socket: net.Socket;
  private readonly edge: Edge;
  private readonly parser = new RequestHeadParser(DEFAULT_LIMITS);
  private readonly address: string;
  private readonly port: number;
  /** head: waiting for a head; body: reading a request body; wait: request read, response pending. */
  private phase: Phase = 'head';
  private buf: Buffer | null = null;
  private responding = false;
  private keepAlive = true;
  private method = '';
  private httpVersion = '1.1';
  private reqHeaders: RequestHeaders = {};
  private ctx: RequestContext | null = null;
  private body: RequestBody | null = null;
  private bodyRemaining = 0;
  private decoder: ChunkedDecoder | null = null;
  private decoderActive = false;
  private out: Readable | null = null;
  private outChunked = false;
  private outRemaining = -1;
  lastActive = performance.now();
  headStarted = 0;
  private readonly onResult = (res: PorticoResponse) => this.writeResponse(res);
  private readonly onError = (err: unknown) => this.writeResponse(errorResponse(err, this.reqHeaders, this.ctx!));
  private readonly onOutData = (chunk: Buffer) => this.writeOut(chunk);
  private readonly onOutEnd = () => this.endOut();
  private readonly onOutError = () => this.socket.destroy();

  constructor(socket: net.Socket, edge: Edge) {
    this.socket = socket;
    this.edge = edge;
    this.address = socket.remoteAddress ?? '';
    this.port = socket.remotePort ?? 0;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.out?.resume());
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', () => this.onClose());
  }

  private onData(chunk: Buffer): void {
    const phase = this.phase;
    if (phase === 'closing') return;
    if (phase === 'body') {
      const used = this.feedBody(chunk, 0);
      if (used < chunk.length && this.phase !== 'closing') this.stash(chunk.subarray(used));
      return;
    }
    this.stash(chunk);
    // A head arriving in pieces is re-parsed only when a line completes (or the limit is hit), so
    // a client sending one byte at a time costs O(lines × size), not O(bytes × size).
    if (phase === 'wait') {
      if (this.buf!.length > MAX_PENDING) this.socket.pause(); // resumed when the response is done
    } else if (this.headStarted === 0 || chunk.indexOf(10) !== -1 || this.buf!.length > DEFAULT_LIMITS.maxHead) {
      this.readHead();
    }
  }

  private stash(chunk: Buffer): void {
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
  }

  private readHead(): void {
    const buf = this.buf!;
    const p = this.parser;
    let end: number;
    try {
      end = p.parse(buf);
    } catch (err) {
      this.reject(err);
      return;
    }
    if (end === -1) {
      if (this.headStarted === 0) this.headStarted = performance.now();
      return;
    }
    this.headStarted = 0;
    this.buf = end < buf.length ? buf.subarray(end) : null;
    this.keepAlive = p.keepAlive;
    this.method = p.method;
    this.httpVersion = p.version;
    this.reqHeaders = p.headers;
    let body: RequestBody | null = null;
    if (p.bodyKind !== 'none') {
      body = this.body = new RequestBody(this.socket);
      this.phase = 'body';
      if (p.bodyKind === 'chunked') (this.decoder ??= new ChunkedDecoder()).reset();
      else this.bodyRemaining = p.contentLength;
      this.decoderActive = p.bodyKind === 'chunked';
      // RFC 9110 §10.1.1: the edge answers 100-continue itself and does not forward Expect.
      if (p.expectContinue && this.buf === null) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    } else this.phase = 'wait';
    const req: PorticoRequest = {
      method: p.method, target: p.target, path: p.path, query: p.query, headers: p.headers, body, httpVersion: p.version,
    };
    const ctx = this.ctx = newContext(this.address, this.port, hostName(p.headers.host));
    this.lastActive = ctx.startedAt;
    this.responding = true;
    if (body !== null && this.buf !== null) {
      const rest = this.buf;
      this.buf = null;
      const used = this.feedBody(rest, 0);
      if (used < rest.length) this.buf = rest.subarray(used);
      if ((this.phase as Phase) === 'closing') return; // the body was malformed and already answered
    }
    let result: PorticoResponse | Promise<PorticoResponse>;
    try {
      result = this.edge.handler(req, ctx);
    } catch (err) {
      result = errorResponse(err, p.headers, ctx);
    }
    if (result instanceof Promise) result.then(this.onResult, this.onError);
    else this.writeResponse(result);
  }

  /** Feeds request body bytes from chunk[pos..]; returns how far it read (the rest is the next request). */
  private feedBody(chunk: Buffer, pos: number): number {
    if (this.decoderActive) {
      let end: number;
      try {
        end = this.decoder!.feed(chunk, pos, chunk.length, this);
      } catch (err) {
        this.bodyFailed(err);
        return chunk.length;
      }
      if (this.decoder!.done) this.endBody();
      return end;
    }
    const n = Math.min(this.bodyRemaining, chunk.length - pos);
    this.data(pos === 0 && n === chunk.length ? chunk : chunk.subarray(pos, pos + n));
    this.bodyRemaining -= n;
    if (this.bodyRemaining === 0) this.endBody();
    return pos + n;
  }

  data(chunk: Buffer): void {
    if (this.body !== null && !this.body.push(chunk)) this.socket.pause();
  }

  private endBody(): void {
    this.body!.push(null);
    this.body = null;
    this.phase = 'wait';
  }

  /** A malformed chunked body: the request is unusable and so is the connection. */
  private bodyFailed(err: unknown): void {
    const e = err instanceof HeadFault ? new BadRequestError(err.message, 'BAD_CHUNKED_BODY') : err;
    this.body?.destroy(e instanceof Error ? e : undefined);
    this.body = null;
    this.keepAlive = false;
    this.buf = null;
    if (this.out === null && this.responding) {
      // Nothing sent yet: answer 400 now; whatever the handler returns later is dropped.
      this.writeResponse(errorResponse(e, this.reqHeaders, this.ctx!));
      this.phase = 'closing';
    } else this.socket.destroy();
  }

  /** A head we refuse: answer, then close, since where the next request starts is unknown. */
  private reject(err: unknown): void {
    this.buf = null;
    this.keepAlive = false;
    this.method = '';
    this.httpVersion = '1.1';
    this.reqHeaders = {};
    this.ctx = newContext(this.address, this.port, '');
    this.responding = true;
    this.writeResponse(errorResponse(err, this.reqHeaders, this.ctx));
  }

  private writeResponse(res: PorticoResponse): void {
    if (this.phase === 'closing' || this.socket.destroyed || !this.responding || this.out !== null) {
      discard(res.body);
      return;
    }
    const fields = serializeFields(res.headers);
    if (fields === null) {
      discard(res.body);
      this.writeResponse(errorResponse(new InternalServerError('invalid response header', 'BAD_RESPONSE_HEADER'), this.reqHeaders, this.ctx!));
      return;
    }
    const status = res.status;
    let head = statusLine(status) + fields;
    let body = res.body;
    let bytes: Uint8Array | null = null;
    // RFC 9112 §6.3 rule 1 / RFC 9110 §9.3.2: HEAD, 1xx, 204 and 304 carry no content; HEAD and
    // 304 keep the Content-Length the full response would have had.
    if (this.method === 'HEAD' || status === 204 || status === 304 || status < 200) {
      const cl = res.headers['content-length'];
      if (status !== 204 && status >= 200 && typeof cl === 'string') head += 'content-length: ' + cl + '\r\n';
      discard(body);
      body = null;
    } else if (body === null) head += 'content-length: 0\r\n';
    else if (typeof body === 'string' || body instanceof Uint8Array) {
      bytes = typeof body === 'string' ? Buffer.from(body) : body;
      head += 'content-length: ' + bytes.byteLength + '\r\n';
    } else {
      const cl = res.headers['content-length'];
      const n = typeof cl === 'string' ? parseContentLength(cl) : -1;
      this.outChunked = false;
      this.outRemaining = n;
      if (n >= 0) head += 'content-length: ' + cl + '\r\n';
      else if (this.httpVersion === '1.1') {
        head += 'transfer-encoding: chunked\r\n';
        this.outChunked = true;
      } else this.keepAlive = false; // HTTP/1.0 peer: the close delimits the body (RFC 9112 §6.3 rule 8)
    }
    // Answered before the request body is in: say we will close after this response (RFC 9112 §9.6).
    if (this.phase === 'body') this.keepAlive = false;
    if (!this.keepAlive) head += 'connection: close\r\n';
    else if (this.httpVersion === '1.0') head += 'connection: keep-alive\r\n';
    head += '\r\n';
    const socket = this.socket;
    if (body instanceof Readable) {
      socket.write(head, 'latin1');
      this.out = body;
      body.on('data', this.onOutData);
      body.once('end', this.onOutEnd);
      body.once('error', this.onOutError);
      return;
    }
    if (bytes === null || bytes.byteLength === 0) socket.write(head, 'latin1');
    else if (bytes.byteLength <= COALESCE_LIMIT) {
      const out = Buffer.allocUnsafe(head.length + bytes.byteLength);
      out.write(head, 0, 'latin1');
      out.set(bytes, head.length);
      socket.write(out);
    } else {
      socket.cork();
      socket.write(head, 'latin1');
      socket.write(bytes);
      socket.uncork();
    }
    this.responseDone();
  }

  private writeOut(chunk: Buffer): void {
    let ok: boolean;
    const socket = this.socket;
    if (this.outChunked) {
      if (chunk.length === 0) return;
      socket.cork();
      socket.write(chunkHeader(chunk.length), 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else {
      if (this.outRemaining >= 0 && (this.outRemaining -= chunk.length) < 0) {
        socket.destroy(); // more than the Content-Length we announced: never send it
        return;
      }
      ok = socket.write(chunk);
    }
    if (!ok) this.out!.pause();
  }

  private endOut(): void {
    const out = this.out!;
    out.off('data', this.onOutData);
    out.off('error', this.onOutError);
    this.out = null;
    if (this.outChunked) this.socket.write(LAST_CHUNK, 'latin1');
    else if (this.outRemaining > 0) {
      this.socket.destroy(); // fewer bytes than announced: the client must see a truncation
      return;
    }
    this.responseDone();
  }

  private responseDone(): void {
    this.responding = false;
    this.ctx = null;
    this.lastActive = performance.now();
    if (!this.keepAlive || this.phase === 'body') {
      this.close();
      return;
    }
    this.phase = 'head';
    if (this.socket.isPaused()) this.socket.resume();
    if (this.buf !== null) this.readHead(); // the next pipelined request, only now (RFC 9112 §9.3.2)
  }

  close(): void {
    this.phase = 'closing';
    this.buf = null;
    this.body?.destroy();
    this.body = null;
    this.socket.end();
  }

  /** The deadline sweep: a slow head gets 408, an idle keep-alive connection is closed. */
  sweep(now: number): void {
    if (this.phase !== 'head' || this.responding) return;
    if (this.headStarted !== 0 && now - this.headStarted > HEAD_TIMEOUT_MS) {
      this.reject(new RequestTimeoutError('request head not received in time', 'HEAD_TIMEOUT'));
    } else if (this.buf === null && now - this.lastActive > KEEPALIVE_IDLE_MS) this.close();
  }

  private onClose(): void {
    this.edge.connections.delete(this);
    this.phase = 'closing';
    this.ctx?.abort();
    this.body?.destroy();
    this.out?.destroy();
    this.out = null;
  }
}

export async function startNetFramingProxy(options: ServerOptions): Promise<net.Server> {
  const origin = options.origin;
  const pool = new UpstreamPool({
    host: origin.hostname, port: Number(origin.port || 80), maxConnections: 256, maxIdle: 64, maxHead: 16 * 1024,
  });
  const terminal: Handler = (req, ctx) => {
    ctx.upstreamAddress = pool.address;
    return pool.request(req);
  };
  const edge: Edge = { handler: compose(noopLayers(options.layers), terminal), connections: new Set() };
  const server = net.createServer({ noDelay: true }, (socket) => {
    edge.connections.add(new ClientConnection(socket, edge));
  });
  setInterval(() => {
    const now = performance.now();
    for (const c of edge.connections) c.sweep(now);
  }, 1000).unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port, reusePort: true }, resolve);
  });
  return server;
}

if (import.meta.main) launch(parseServerArgs(), async (options) => {
  await startNetFramingProxy(options);
});
