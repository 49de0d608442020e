// Writes one planned response (response-head.ts) on a client socket: the head and a small body in
// one write(2), a larger one corked with it, a stream with backpressure (paused while the socket's
// buffer is full), chunk-framed or held to its announced Content-Length exactly.
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { LAST_CHUNK, chunkHeader } from './http1-syntax.ts';
import type { ResponsePlan } from './response-head.ts';
import { forwardableTrailers, trailerSection } from '../../http/trailers.ts';

/** Small bodies are copied next to the head so head and body leave in one write(2). */
const COALESCE_LIMIT = 4096;

export class ResponseWriter {
  private readonly socket: Socket;
  private readonly done: () => void;
  private readonly failed: (err: Error) => void;
  private out: Readable | null = null;
  private plan: ResponsePlan | null = null;
  /** Waiting for a finished body's trailers; cleared by abandon() so a late settle writes nothing. */
  private awaitingTrailers = false;

  /** `done` runs once the response is fully handed to the socket; `failed` when its stream errors. */
  constructor(socket: Socket, done: () => void, failed: (err: Error) => void) {
    this.socket = socket;
    this.done = done;
    this.failed = failed;
    socket.on('drain', () => this.out?.resume());
  }

  send(plan: ResponsePlan): void {
    const socket = this.socket;
    if (plan.stream !== null) {
      socket.write(plan.head, 'latin1');
      this.out = plan.stream;
      this.plan = plan;
      plan.stream.on('data', this.onData);
      plan.stream.once('end', this.onEnd);
      plan.stream.once('error', this.onError);
      return;
    }
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
    this.done();
  }

  /** The client is gone: stop reading the body stream. */
  abandon(): void {
    this.awaitingTrailers = false;
    const out = this.out;
    this.release();
    out?.destroy();
  }

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
    this.done();
  };

  /** last-chunk, trailer section, final CRLF (RFC 9112 §7.1.2), once the producer has them. */
  private endWithTrailers(trailers: Promise<Record<string, string> | null>): void {
    this.awaitingTrailers = true;
    const end = (fields: Record<string, string> | null): void => {
      if (!this.awaitingTrailers || this.socket.destroyed) return;
      this.awaitingTrailers = false;
      this.socket.write('0\r\n' + trailerSection(forwardableTrailers(fields)) + '\r\n', 'latin1');
      this.done();
    };
    trailers.then(end, () => end(null));
  }

  private readonly onError = (err: Error): void => {
    this.release();
    this.failed(err);
    this.socket.destroy();
  };

  private release(): void {
    const out = this.out;
    if (out === null) return;
    out.off('data', this.onData);
    out.off('end', this.onEnd);
    out.off('error', this.onError);
    out.on('error', () => {}); // a late error after we let go has nobody to tell
    this.out = null;
    this.plan = null;
  }
}
