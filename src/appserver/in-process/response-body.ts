// An in-process app's WHATWG Response as a PorticoResponse. A body already in memory
// (`new Response('text')`, `c.json()`) is read to its end within this turn of the event loop and
// handed on complete, so the edge sends it with Content-Length in one write (the workers' fetch
// bridge does the same); a body still pending at the end of the turn, or past 64 KiB, is a real
// stream: the head goes out at once (server-sent events, long polls) and the rest flows through
// a Readable that reads the app's stream only when the client takes more (backpressure).
import { Readable } from 'node:stream';
import type { PorticoResponse, ResponseHeaders } from '../../http/types.ts';
import { HOP_BY_HOP } from '../../http/headers.ts';
import { takeWhole } from '../../http/body-source.ts';

/** More than this, read in one turn, is streamed rather than held: no whole-body buffering. */
const HOLD_LIMIT = 64 * 1024;

export interface BodyOptions {
  /** Longest wait for the app's next body chunk while the client wants one; then the body fails. */
  idleTimeout: number;
  /** Called when the body fails after the head went out (the edge then cuts the connection). */
  onError(err: unknown): void;
}

export function responseHeaders(response: Response): ResponseHeaders {
  return headersOf(response.headers);
}

function headersOf(fields: Headers): ResponseHeaders {
  const out: ResponseHeaders = {};
  for (const [name, value] of fields) {
    // Framing is the edge's job (RFC 9112 §6; RFC 9110 §7.6.1); cookies are taken whole below.
    if (HOP_BY_HOP.has(name) || name === 'set-cookie') continue;
    out[name] = value;
  }
  const cookies = fields.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
}

/**
 * A framework response nobody has read (src/http/body-source.ts): its string as the body,
 * synchronously, with no web stream made or read back. Null for any other response.
 */
export function takeWholeResponse(response: Response): PorticoResponse | null {
  const whole = takeWhole(response);
  if (whole === undefined) return null;
  let headers: ResponseHeaders;
  if (whole.headers instanceof Headers) {
    headers = headersOf(whole.headers);
    delete headers['content-length']; // the edge frames a complete body with its own
  } else headers = { ...whole.headers };
  return { status: whole.status, headers, body: whole.body === '' ? null : whole.body };
}

export async function toPorticoResponse(response: Response, options: BodyOptions): Promise<PorticoResponse> {
  const headers = responseHeaders(response);
  const stream = response.body;
  if (stream === null) return { status: response.status, headers, body: null };
  const reader = stream.getReader();
  const first = await readWithinTurn(reader);
  if (first.pending === null && first.done) {
    // Complete: the edge frames it with its own Content-Length.
    delete headers['content-length'];
    const body = first.chunks.length === 0 ? null : first.chunks.length === 1 ? first.chunks[0] : Buffer.concat(first.chunks);
    return { status: response.status, headers, body };
  }
  return { status: response.status, headers, body: new WebBodyReadable(reader, first.chunks, first.pending, options) };
}

interface Turn {
  chunks: Uint8Array[];
  done: boolean;
  /** The read still outstanding when the turn ended. */
  pending: Promise<ReadableStreamReadResult<Uint8Array>> | null;
}

const TURN_OVER = Symbol('turn over');

async function readWithinTurn(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Turn> {
  const chunks: Uint8Array[] = [];
  let held = 0;
  let tick: NodeJS.Immediate | undefined;
  const turnOver = new Promise<typeof TURN_OVER>((resolve) => (tick = setImmediate(resolve, TURN_OVER)));
  try {
    for (;;) {
      const read = reader.read();
      const r = await Promise.race([read, turnOver]);
      if (r === TURN_OVER) return { chunks, done: false, pending: read };
      if (r.done) return { chunks, done: true, pending: null };
      chunks.push(r.value);
      held += r.value.byteLength;
      if (held > HOLD_LIMIT) return { chunks, done: false, pending: null };
    }
  } finally {
    clearImmediate(tick);
  }
}

/** The rest of the app's body, read one chunk per demand from the edge. */
class WebBodyReadable extends Readable {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly held: Uint8Array[];
  private pending: Promise<ReadableStreamReadResult<Uint8Array>> | null;
  private readonly options: BodyOptions;
  private timer: NodeJS.Timeout | undefined;
  private reading = false;

  constructor(reader: ReadableStreamDefaultReader<Uint8Array>, held: Uint8Array[], pending: Turn['pending'], options: BodyOptions) {
    super();
    this.reader = reader;
    this.held = held;
    this.pending = pending;
    this.options = options;
    // A read already pending rejects if the app's stream fails: never leave it unhandled.
    pending?.catch(() => {});
  }

  override _read(): void {
    // One push per call: node asks again as soon as it wants more, even with a read outstanding.
    if (this.reading) return;
    if (this.held.length > 0) {
      this.push(this.held.shift());
      return;
    }
    const read = this.pending ?? this.reader.read();
    this.pending = null;
    this.reading = true;
    this.timer = setTimeout(() => this.fail(new Error(`the app sent no body bytes for ${this.options.idleTimeout} ms`)), this.options.idleTimeout);
    read.then((r) => {
      this.reading = false;
      clearTimeout(this.timer);
      if (this.destroyed) return;
      this.push(r.done ? null : r.value);
    }, (err: unknown) => {
      this.reading = false;
      clearTimeout(this.timer);
      this.fail(err instanceof Error ? err : new Error(String(err)));
    });
  }

  /** The app's side failed (not the client's): reported, then the edge cuts the connection. */
  private fail(err: Error): void {
    if (this.destroyed) return;
    this.options.onError(err);
    this.destroy(err);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.timer);
    // The client left or the body failed: stop the app's stream so it does no more work.
    this.reader.cancel(err ?? undefined).catch(() => {});
    callback(err);
  }
}
