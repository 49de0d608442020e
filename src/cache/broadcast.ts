// One upstream body, several readers: the client that caused the fetch, the requests coalesced
// onto it (RFC 9111 §4 allows a cache to reuse one response for all of them) and the store.
// Chunks go to every reader as they arrive; nothing waits for the whole body. The slowest reader
// sets the pace (backpressure), and the copy kept for the store stops at `maxBytes`.
import { PassThrough, type Readable } from 'node:stream';

export class Broadcast {
  /** What arrived so far, while it may still be stored; null past `maxBytes` or after an error. */
  private chunks: Buffer[] | null = [];
  private bytes = 0;
  private readonly readers = new Set<PassThrough>();
  private readonly waitingDrain = new Set<PassThrough>();
  private ended = false;
  private failed = false;
  /** The whole body when it arrived complete and within the bound, else null. */
  readonly done: Promise<Buffer | null>;
  private resolveDone!: (body: Buffer | null) => void;

  private readonly source: Readable;
  private readonly maxBytes: number;

  constructor(source: Readable, maxBytes: number) {
    this.source = source;
    this.maxBytes = maxBytes;
    this.done = new Promise((resolve) => { this.resolveDone = resolve; });
    source.on('data', (chunk: Buffer | string) => this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    source.once('end', () => this.onEnd());
    source.once('error', (err) => this.onError(err));
    source.once('close', () => { if (!this.ended) this.onError(new Error('upstream body closed early')); });
  }

  /** Whether a new reader can still get the body from its first byte. */
  get joinable(): boolean {
    return this.chunks !== null && !this.failed;
  }

  /** A new reader from the first byte, or null when the start is gone (past the bound) or it failed. */
  subscribe(): Readable | null {
    if (!this.joinable) return null;
    const reader = new PassThrough();
    for (const chunk of this.chunks as Buffer[]) reader.write(chunk);
    if (this.ended) {
      reader.end();
      return reader;
    }
    this.readers.add(reader);
    reader.once('close', () => this.drop(reader));
    return reader;
  }

  private onData(chunk: Buffer): void {
    if (this.chunks !== null) {
      this.bytes += chunk.byteLength;
      if (this.bytes > this.maxBytes) this.chunks = null;
      else this.chunks.push(chunk);
    }
    for (const reader of this.readers) {
      if (!reader.write(chunk) && !this.waitingDrain.has(reader)) {
        this.waitingDrain.add(reader);
        reader.once('drain', () => this.drained(reader));
      }
    }
    if (this.waitingDrain.size > 0) this.source.pause();
    this.stopIfUnwanted();
  }

  private drained(reader: PassThrough): void {
    this.waitingDrain.delete(reader);
    if (this.waitingDrain.size === 0 && !this.ended) this.source.resume();
  }

  private drop(reader: PassThrough): void {
    this.readers.delete(reader);
    if (this.waitingDrain.delete(reader) && this.waitingDrain.size === 0 && !this.ended) this.source.resume();
    this.stopIfUnwanted();
  }

  /** Nobody reads and nothing will be stored: stop fetching. While it can be stored, the fetch goes on (as Varnish's does). */
  private stopIfUnwanted(): void {
    if (this.readers.size === 0 && this.chunks === null && !this.ended) {
      this.failed = true;
      this.source.destroy();
      this.resolveDone(null);
    }
  }

  private onEnd(): void {
    this.ended = true;
    for (const reader of this.readers) reader.end();
    this.resolveDone(this.chunks === null ? null : Buffer.concat(this.chunks, this.bytes));
  }

  private onError(err: Error): void {
    if (this.ended || this.failed) return;
    this.failed = true;
    this.chunks = null;
    for (const reader of this.readers) reader.destroy(err);
    this.resolveDone(null);
  }
}
