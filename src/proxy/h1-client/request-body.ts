// Streams a request body to the upstream socket with backpressure: the body is paused while the
// socket's buffer is full and resumed on 'drain'. Chunk-framed (RFC 9112 §7.1) when the length is
// not known. One writer per connection, its handlers bound once, so no closure is made per chunk
// or per request.
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { LAST_CHUNK, chunkHeader } from '../../edge/h1/http1-syntax.ts';

export interface BodyWriterOwner {
  /** The body ended and its last byte (and last chunk) is written. */
  bodySent(): void;
  /** The body stream failed (the client went away, a size cap was crossed). */
  bodyFailed(err: Error): void;
}

export class RequestBodyWriter {
  private readonly socket: Socket;
  private readonly owner: BodyWriterOwner;
  private body: Readable | null = null;
  private chunked = false;

  constructor(socket: Socket, owner: BodyWriterOwner) {
    this.socket = socket;
    this.owner = owner;
  }

  get active(): boolean {
    return this.body !== null;
  }

  start(body: Readable, chunked: boolean): void {
    this.body = body;
    this.chunked = chunked;
    body.on('data', this.onData);
    body.once('end', this.onEnd);
    body.once('error', this.onError);
    this.socket.on('drain', this.onDrain);
  }

  /**
   * Stops listening to the body (the exchange ended or failed). A body not yet ended is paused:
   * a flowing stream without a 'data' listener would drop its bytes, and an unread body is what
   * lets a failed idempotent request be sent again (src/proxy/retryable.ts).
   */
  detach(): void {
    const body = this.body;
    if (body === null) return;
    this.body = null;
    body.off('data', this.onData);
    body.off('end', this.onEnd);
    body.off('error', this.onError);
    if (!body.readableEnded) body.pause();
    this.socket.off('drain', this.onDrain);
  }

  private readonly onData = (chunk: Buffer): void => {
    const socket = this.socket;
    if (socket.destroyed || chunk.length === 0) return;
    let ok: boolean;
    if (this.chunked) {
      socket.cork();
      socket.write(chunkHeader(chunk.length), 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else ok = socket.write(chunk);
    if (!ok) this.body?.pause();
  };

  private readonly onDrain = (): void => {
    this.body?.resume();
  };

  private readonly onEnd = (): void => {
    const chunked = this.chunked;
    this.detach();
    if (chunked && !this.socket.destroyed) this.socket.write(LAST_CHUNK, 'latin1');
    this.owner.bodySent();
  };

  private readonly onError = (err: Error): void => {
    this.detach();
    this.owner.bodyFailed(err);
  };
}
