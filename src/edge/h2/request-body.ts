// An h2 request body as the layers read it: the stream's DATA frames pushed into a Readable of its
// own, so a layer that destroys the body (a 413 cap, a failed upstream) never resets the response
// half of the stream with it. Backpressure pauses the stream, which holds back node's
// WINDOW_UPDATEs, so a slow reader slows the client down (RFC 9113 §5.2) instead of buffering.
import type { ServerHttp2Stream } from 'node:http2';
import { Readable } from 'node:stream';

const ignore = (): void => {};

export class H2RequestBody extends Readable {
  private readonly stream: ServerHttp2Stream;
  private pendingContinue: (() => void) | null = null;
  /** Someone asked for the body: the stream is being read. */
  attached = false;
  /** The client's END_STREAM arrived and every byte was pushed. */
  ended = false;

  constructor(stream: ServerHttp2Stream) {
    super();
    this.stream = stream;
    // A body nobody reads may still fail (client reset, request timeout): never an uncaught 'error'.
    this.on('error', ignore);
  }

  /**
   * RFC 9110 §10.1.1: the client waits for `100 Continue` before the body; `send` runs when a
   * consumer first asks for it, so a route that answers without reading (413 on a declared length,
   * a redirect, a fixed response) never asks for the body.
   */
  expectContinue(send: () => void): void {
    this.pendingContinue = send;
  }

  override _read(): void {
    if (this.attached) {
      if (this.stream.isPaused()) this.stream.resume();
      return;
    }
    this.attached = true;
    const send = this.pendingContinue;
    this.pendingContinue = null;
    // Body bytes already came: the client did not wait, nothing to ask for.
    if (send !== null && this.stream.readableLength === 0) send();
    // Read lazily: a stream never read lets node close it with NO_ERROR once the response is out.
    this.stream.on('data', this.onData);
    this.stream.once('end', this.onEnd);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    callback(err);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (!this.push(chunk)) this.stream.pause();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.push(null);
  };
}
