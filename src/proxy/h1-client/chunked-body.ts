// A chunked response body (RFC 9112 §7.1) through the edge engine's strict ChunkedDecoder, plus
// its trailer section, which the decoder checks but discards (§7.1.2 allows that to a recipient;
// a proxy forwards them instead). Rather than a second chunk parser, this keeps the framing bytes
// seen since the last data slice: when the decoder reports the end, they are
// `[CRLF] last-chunk trailer-section CRLF`, already validated, and only the field lines are read.
import { ChunkedDecoder, type DataSink, type FieldSink, parseFieldLines } from '../../edge/h1/http1-syntax.ts';

export class ChunkedBody implements DataSink, FieldSink {
  private readonly decoder = new ChunkedDecoder();
  private sink: DataSink | null = null;
  private buf: Buffer | null = null;
  /** Index in `buf` just past the last data slice of the current feed; -1 = none in this feed. */
  private dataEnd = -1;
  /** Framing since the last data slice (copies: read buffers are shared, see connection.ts). */
  private readonly tail: Buffer[] = [];
  private sawData = false;
  /** The trailer fields once done; null when there were none. */
  trailers: Record<string, string> | null = null;

  get done(): boolean {
    return this.decoder.done;
  }

  reset(): void {
    this.decoder.reset();
    this.tail.length = 0;
    this.sawData = false;
    this.trailers = null;
  }

  /** Decodes buf[pos, end) into `sink`; returns how far it read (past the body's end when done). Throws HeadFault. */
  feed(buf: Buffer, pos: number, end: number, sink: DataSink): number {
    this.sink = sink;
    this.buf = buf;
    this.dataEnd = -1;
    let stop: number;
    try {
      stop = this.decoder.feed(buf, pos, end, this);
    } finally {
      this.sink = null;
      this.buf = null;
    }
    if (this.dataEnd !== -1) {
      this.tail.length = 0;
      pos = this.dataEnd;
    }
    if (stop > pos) this.tail.push(Buffer.from(buf.subarray(pos, stop))); // copy: shared read buffer
    if (this.decoder.done) this.readTrailers();
    return stop;
  }

  data(chunk: Buffer): void {
    this.sawData = true;
    this.dataEnd = chunk.byteOffset - this.buf!.byteOffset + chunk.length;
    this.sink!.data(chunk);
  }

  field(name: string, value: string): void {
    const t = (this.trailers ??= {});
    if (name === '__proto__') return;
    const prev = t[name];
    t[name] = prev === undefined ? value : prev + ', ' + value;
  }

  private readTrailers(): void {
    const tail = this.tail;
    const t = tail.length === 1 ? tail[0] : Buffer.concat(tail);
    tail.length = 0;
    // Skip the CRLF closing the last data chunk, then the last-chunk line ("0[;ext]\r\n").
    const lineEnd = t.indexOf(10, this.sawData ? 2 : 0);
    // What is left is "\r\n" alone when there are no trailer fields (the common case).
    if (lineEnd === -1 || t.length - (lineEnd + 1) <= 2) return;
    parseFieldLines(t, lineEnd + 1, t.length + 1, this);
  }
}
