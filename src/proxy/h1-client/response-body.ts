// A streamed upstream response body: reading pulls from the upstream socket (resumed on _read,
// paused by the connection when push() says the consumer is full), and destroying it before its
// end aborts the exchange, which closes the connection: it is mid-response and cannot be reused.
import { Readable } from 'node:stream';

/** What the body needs from its connection. */
export interface BodySource {
  resumeReading(): void;
  abandon(err: Error): void;
}

export class UpstreamBody extends Readable {
  source: BodySource | null;

  constructor(source: BodySource) {
    super();
    this.source = source;
  }

  override _read(): void {
    this.source?.resumeReading();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const source = this.source;
    this.source = null;
    source?.abandon(err ?? new Error('response body destroyed before its end'));
    callback(err);
  }
}
