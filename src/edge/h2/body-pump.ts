// A streamed response body onto an h2 stream: DATA with backpressure (the source pauses while
// node's stream buffer is full, i.e. while the client's flow-control window is closed, RFC 9113
// §5.2), held to its Content-Length exactly (RFC 9113 §8.1.1: a mismatch makes the message
// malformed), and the trailers sent as the trailing HEADERS frame once the body has ended (§8.1).
import { constants, type ServerHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import { forwardableTrailers } from '../../http/trailers.ts';

const ignore = (): void => {};

export class BodyPump {
  private readonly stream: ServerHttp2Stream;
  private readonly source: Readable;
  private readonly trailers: Promise<Record<string, string> | null> | null;
  private readonly done: (err: Error | null) => void;
  /** Bytes still owed to the announced Content-Length; -1 when there is none. */
  private remaining: number;
  private active = true;
  /** Body bytes handed to the stream (the access log's $body_bytes_sent). */
  bytes = 0;

  /**
   * The head must have gone out with `waitForTrailers` when `trailers` is given. `done` runs once:
   * null when the body (and its trailers) went out whole, else the reason it was cut.
   */
  constructor(stream: ServerHttp2Stream, source: Readable, length: number, trailers: Promise<Record<string, string> | null> | null, done: (err: Error | null) => void) {
    this.stream = stream;
    this.source = source;
    this.remaining = length;
    this.trailers = trailers;
    this.done = done;
    stream.on('drain', this.onDrain);
    source.on('data', this.onData);
    source.once('end', this.onEnd);
    source.once('error', this.onError);
  }

  /** The client is gone: stop reading the source. */
  abandon(): void {
    if (!this.active) return;
    this.release();
    this.source.destroy();
  }

  private readonly onData = (chunk: Buffer | string): void => {
    const n = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (this.remaining >= 0 && (this.remaining -= n) < 0) {
      this.cut(new Error('response body longer than its Content-Length'));
      return;
    }
    this.bytes += n;
    if (!this.stream.write(chunk)) this.source.pause();
  };

  private readonly onDrain = (): void => {
    this.source.resume();
  };

  private readonly onEnd = (): void => {
    if (this.remaining > 0) {
      this.cut(new Error('response body shorter than its Content-Length'));
      return;
    }
    this.release();
    const stream = this.stream;
    const trailers = this.trailers;
    if (trailers === null) {
      stream.end();
      this.done(null);
      return;
    }
    // node asks for them once the last DATA frame is queued; until sendTrailers the stream stays open.
    stream.once('wantTrailers', () => {
      const send = (fields: Record<string, string> | null): void => {
        if (stream.destroyed || stream.closed) return;
        try {
          stream.sendTrailers(forwardableTrailers(fields) ?? {});
        } catch {
          // Filtered already; should node still refuse one, the body is complete: end without them.
          stream.close(constants.NGHTTP2_NO_ERROR);
        }
        this.done(null);
      };
      trailers.then(send, () => send(null));
    });
    stream.end();
  };

  private readonly onError = (err: Error): void => {
    this.cut(err);
  };

  /** The body failed or broke its framing: reset the stream so the client sees a truncation. */
  private cut(err: Error): void {
    this.release();
    this.source.destroy();
    // destroy(err), not close(INTERNAL_ERROR): close() ends the writable side first, and an
    // END_STREAM short of the Content-Length would read as complete to a lenient client.
    if (!this.stream.destroyed) this.stream.destroy(err);
    this.done(err);
  }

  private release(): void {
    if (!this.active) return;
    this.active = false;
    this.stream.off('drain', this.onDrain);
    const source = this.source;
    source.off('data', this.onData);
    source.off('end', this.onEnd);
    source.off('error', this.onError);
    source.on('error', ignore); // a late error after we let go has nobody to tell
  }
}
