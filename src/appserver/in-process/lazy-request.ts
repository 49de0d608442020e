// The application boundary for in-process apps: a PorticoRequest seen as a WHATWG Request without
// building one per call. Like @hono/node-server's lightweight request (what the workers' fetch
// bridge uses), `method`, `url`, `headers` and `signal` come from plain fields, made on first
// use; a native Request is built only when the app touches anything else (the body, clone(), …).
// A native Request (Headers + URL + Request) measured ~9 µs on this machine: a third of a hello
// app's whole budget, spent even when the handler reads nothing.
import { Readable } from 'node:stream';
import { delegateToNative } from '../../http/lazy-delegate.ts';

const NativeRequest = globalThis.Request;

/** What the lazy request is made of; `signal` is asked for only when the app reads it. */
export interface RequestParts {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Readable | null;
  signal: () => AbortSignal;
}

const parts = Symbol('portico.requestParts');
const native = Symbol('portico.nativeRequest');
const headersCache = Symbol('portico.headers');

interface Lazy {
  [parts]: RequestParts;
  [native]: Request | undefined;
  [headersCache]: Headers | undefined;
}

/** The full Request, made once: the body streams from the PorticoRequest with backpressure (Readable.toWeb). */
function materialize(self: Lazy): Request {
  let r = self[native];
  if (r !== undefined) return r;
  const p = self[parts];
  const init: RequestInit & { duplex?: 'half' } = { method: p.method, headers: headersOf(self), signal: p.signal() };
  // GET and HEAD never carry content to the app (RFC 9110 §9.3.1; the Request constructor refuses it).
  if (p.body !== null && p.method !== 'GET' && p.method !== 'HEAD') {
    init.body = Readable.toWeb(p.body) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  r = new NativeRequest(p.url, init);
  self[native] = r;
  return r;
}

function headersOf(self: Lazy): Headers {
  return (self[headersCache] ??= new Headers(self[parts].headers));
}

const proto: object = Object.create(NativeRequest.prototype, {
  method: { get(this: Lazy) { return this[parts].method; }, enumerable: true },
  url: { get(this: Lazy) { return this[parts].url; }, enumerable: true },
  headers: { get(this: Lazy) { return this[native]?.headers ?? headersOf(this); }, enumerable: true },
  signal: { get(this: Lazy) { return this[native]?.signal ?? this[parts].signal(); }, enumerable: true },
  // Without a native Request yet, nothing has read the body.
  bodyUsed: { get(this: Lazy) { return this[native]?.bodyUsed ?? false; }, enumerable: true },
  [Symbol.for('nodejs.util.inspect.custom')]: {
    value(this: Lazy) {
      return `Request (portico in-process) ${JSON.stringify({ method: this[parts].method, url: this[parts].url })}`;
    },
  },
});

// Everything else (body, text(), json(), formData(), clone(), cache, …) runs on the native object.
delegateToNative<Lazy>(proto, NativeRequest.prototype, materialize);

/**
 * A Request for the app (`instanceof Request` holds). One limit, as with @hono/node-server
 * without its global override: the native `new Request(request, init)` cannot copy it (it reads
 * private fields); `new Request(request.url, { …init, headers: request.headers })` can.
 */
export function lazyRequest(p: RequestParts): Request {
  const r = Object.create(proto) as Lazy;
  r[parts] = p;
  r[native] = undefined;
  r[headersCache] = undefined;
  return r as unknown as Request;
}
