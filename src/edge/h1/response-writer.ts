// Writes one planned response (response-head.ts) on a client socket: the head and a small body in
// one write(2), a larger one corked with it (writeWhole), a stream with backpressure (paused while
// the socket's buffer is full), chunk-framed or held to its announced Content-Length exactly
// (ResponseWriter).
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { LAST_CHUNK, chunkHeader } from './http1-syntax.ts';
import type { ResponsePlan } from './response-head.ts';
import { forwardableTrailers, trailerSection } from '../../http/trailers.ts';

/** Small bodies are copied next to the head so head and body leave in one write(2). */
const COALESCE_LIMIT = 4096;

/** Who hears of a response's end: the connection (h1-connection.ts), with no closure per connection. */
export interface ResponseSink {
  /** The response is fully handed to the socket. */
  responseDone(): void;
  /** Its body stream failed (the socket is destroyed after this). */
  responseFailed(err: Error): void;
}

/**
 * A response whose body is whole (or empty): written at once, with nothing to keep, so the
 * usual response allocates no writer (docs/idle-memory.md).
 */
export function writeWhole(socket: Socket, plan: ResponsePlan): void {
  const bytes = plan.bytes;
  if (bytes === null || bytes.byteLength === 0) socket.write(plan.head, 'latin1');
  else if (bytes.byteLength <= COALESCE_LIMIT) {
    const out = Buffer.allocUnsafe(plan.head.length + bytes.byteLength);
    out.write(plan.head, 0, 'latin1');
    out.set(bytes, plan.head.length);
    socket.write(out);
  } else {
    socket.cork();
    socket.write(plan.head, 'latin1');
    socket.write(bytes);
    socket.uncork();
  }
}

/** One streamed response: made for it and dropped after it, so idle connections hold no writer. */
export class ResponseWriter {
  private readonly socket: Socket;
  private readonly sink: ResponseSink;
  private out: Readable | null = null;
  private plan: ResponsePlan | null = null;
  /** Waiting for a finished body's trailers; cleared by abandon() so a late settle writes nothing. */
  private awaitingTrailers = false;

  constructor(socket: Socket, sink: ResponseSink) {
    this.socket = socket;
    this.sink = sink;
  }

  send(plan: ResponsePlan): void {
    const socket = this.socket;
    if (plan.stream === null) {
      writeWhole(socket, plan);
      this.sink.responseDone();
      return;
    }
    socket.write(plan.head, 'latin1');
    this.out = plan.stream;
    this.plan = plan;
    // Only while a stream is being written: an idle connection keeps no 'drain' listener.
    socket.on('drain', this.onDrain);
    plan.stream.on('data', this.onData);
    plan.stream.once('end', this.onEnd);
    plan.stream.once('error', this.onError);
  }

  /** The client is gone: stop reading the body stream. */
  abandon(): void {
    this.awaitingTrailers = false;
    const out = this.out;
    this.release();
    out?.destroy();
  }

  private readonly onDrain = (): void => {
    this.out?.resume();
  };

  private readonly onData = (chunk: Buffer): void => {
    const plan = this.plan!;
    const socket = this.socket;
    let ok: boolean;
    if (plan.chunked) {
      if (chunk.length === 0) return;
      socket.cork();
      socket.write(chunkHeader(chunk.length), 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else {
      if (plan.length >= 0 && (plan.length -= chunk.length) < 0) {
        this.abandon();
        socket.destroy(); // more than the Content-Length announced: never send it
        return;
      }
      ok = socket.write(chunk);
    }
    if (!ok) this.out?.pause();
  };

  private readonly onEnd = (): void => {
    const plan = this.plan!;
    this.release();
    if (plan.chunked) {
      if (plan.trailers !== null) {
        this.endWithTrailers(plan.trailers);
        return;
      }
      this.socket.write(LAST_CHUNK, 'latin1');
    } else if (plan.length > 0) {
      this.socket.destroy(); // fewer bytes than announced: the client must see a truncation
      return;
    }
    this.sink.responseDone();
  };

  /** last-chunk, trailer section, final CRLF (RFC 9112 §7.1.2), once the producer has them. */
  private endWithTrailers(trailers: Promise<Record<string, string> | null>): void {
    this.awaitingTrailers = true;
    const end = (fields: Record<string, string> | null): void => {
      if (!this.awaitingTrailers || this.socket.destroyed) return;
      this.awaitingTrailers = false;
      this.socket.write('0\r\n' + trailerSection(forwardableTrailers(fields)) + '\r\n', 'latin1');
      this.sink.responseDone();
    };
    trailers.then(end, () => end(null));
  }

  private readonly onError = (err: Error): void => {
    this.release();
    this.sink.responseFailed(err);
    this.socket.destroy();
  };

  private release(): void {
    const out = this.out;
    if (out === null) return;
    out.off('data', this.onData);
    out.off('end', this.onEnd);
    out.off('error', this.onError);
    out.on('error', () => {}); // a late error after we let go has nobody to tell
    this.socket.off('drain', this.onDrain);
    this.out = null;
    this.plan = null;
  }
}
