// The answer of `c.text()`, `c.json()` and `c.html()`: a Response (`instanceof Response` holds) that
// keeps its string and status as plain fields and builds a native Response only when something
// needs one (its `body` stream, `blob()`, `formData()`, …). A native `new Response('hello')` costs a
// Headers object and a web ReadableStream over the encoded string (~5 µs here, a third of a hello
// request in process); the data plane (src/http/body-source.ts) and `await res.text()` in a test
// take the string as it is. The same idea as lazy-request.ts on the way in, and as
// @hono/node-server's lightweight Response.
//
// It behaves as the native Response it stands for: reading the body once (`text()`, `json()`,
// `arrayBuffer()`, `bytes()`) marks it used and a second read rejects; `clone()` of a used body
// throws; `headers` is one mutable Headers object for the whole life of the response (a middleware
// holding it sees its changes kept even after the native Response is made).
import { WHOLE, type WholeBody } from '../http/body-source.ts';
import { delegateToNative } from '../http/lazy-delegate.ts';

const NativeResponse = globalThis.Response;
const encoder = new TextEncoder();

const state = Symbol('portico.lazyResponse');

interface State {
  readonly status: number;
  readonly source: string;
  /** Field values the framework wrote (lowercase names, valid values): made into Headers on first use. */
  readonly init: Readonly<Record<string, string>>;
  headers: Headers | undefined;
  native: Response | undefined;
  /** Read through this object (text(), json(), …) before any native Response existed. */
  used: boolean;
}

interface Lazy {
  [state]: State;
}

function headersOf(s: State): Headers {
  return (s.headers ??= new Headers(s.init));
}

/** The native Response, made once; a body already read here is read there too, so it reports used. */
function materialize(self: Lazy): Response {
  const s = self[state];
  if (s.native !== undefined) return s.native;
  const r = new NativeResponse(s.source, { status: s.status, headers: headersOf(s) });
  if (s.used) r.text().catch(() => {});
  s.native = r;
  return r;
}

function unusable(): TypeError {
  return new TypeError('Body is unusable: Body has already been read');
}

/** The string, once: what text() and friends build on; null when a native Response holds the body. */
function consume(self: Lazy): string | null {
  const s = self[state];
  if (s.native !== undefined) return null;
  if (s.used) throw unusable();
  s.used = true;
  return s.source;
}

function read<T>(self: Lazy, native: (r: Response) => Promise<T>, own: (source: string) => T): Promise<T> {
  let source: string | null;
  try {
    source = consume(self);
    if (source === null) return native(self[state].native!);
    return Promise.resolve(own(source));
  } catch (err) {
    return Promise.reject(err);
  }
}

const proto: object = Object.create(NativeResponse.prototype, {
  status: { get(this: Lazy) { return this[state].status; }, enumerable: true },
  ok: { get(this: Lazy) { const st = this[state].status; return st >= 200 && st <= 299; }, enumerable: true },
  statusText: { get() { return ''; }, enumerable: true },
  type: { get() { return 'default'; }, enumerable: true },
  url: { get() { return ''; }, enumerable: true },
  redirected: { get() { return false; }, enumerable: true },
  headers: { get(this: Lazy) { return headersOf(this[state]); }, enumerable: true },
  bodyUsed: { get(this: Lazy) { const s = this[state]; return s.native?.bodyUsed ?? s.used; }, enumerable: true },
  text: { value(this: Lazy) { return read(this, (r) => r.text(), (src) => src); }, writable: true },
  json: { value(this: Lazy) { return read(this, (r) => r.json(), (src) => JSON.parse(src) as unknown); }, writable: true },
  arrayBuffer: { value(this: Lazy) { return read(this, (r) => r.arrayBuffer(), (src) => encoder.encode(src).buffer); }, writable: true },
  bytes: { value(this: Lazy) { return read(this, (r) => r.bytes(), (src) => encoder.encode(src)); }, writable: true },
  clone: {
    value(this: Lazy) {
      const s = this[state];
      if (s.native !== undefined) return s.native.clone();
      if (s.used) throw new TypeError('Response.clone: Body has already been consumed.');
      return lazyResponse(s.source, s.status, s.init, s.headers === undefined ? undefined : new Headers(s.headers));
    },
    writable: true,
  },
  [WHOLE]: {
    value(this: Lazy): WholeBody | undefined {
      const s = this[state];
      if (s.native !== undefined || s.used) return undefined;
      s.used = true;
      return { status: s.status, headers: s.headers ?? s.init, body: s.source };
    },
  },
  [Symbol.for('nodejs.util.inspect.custom')]: {
    value(this: Lazy) {
      const s = this[state];
      return `Response (portico) ${JSON.stringify({ status: s.status, bodyUsed: s.native?.bodyUsed ?? s.used, body: s.source.length > 60 ? s.source.slice(0, 60) + '…' : s.source })}`;
    },
  },
});

// Everything else (body, blob(), formData(), …) runs on the native object.
delegateToNative<Lazy>(proto, NativeResponse.prototype, materialize);

/**
 * A Response of `source` with `status` and the fields `init` (lowercase names and values the
 * framework vouches for), or `headers` when given (already a Headers: the user's fields, checked
 * by its constructor). The caller keeps to what the native constructor accepts without a throw:
 * a status in 200–599 that may carry content (see canBeLazy).
 */
export function lazyResponse(source: string, status: number, init: Readonly<Record<string, string>>, headers?: Headers): Response {
  const r = Object.create(proto) as Lazy;
  r[state] = { status, source, init, headers, native: undefined, used: false };
  return r as unknown as Response;
}

/**
 * Whether `lazyResponse` can stand for `new Response(source, { status })`: a status the native
 * constructor takes with content, and the global Response still the native one. An adapter that
 * installs its own (@hono/node-server's lightweight Response, which its listener writes without
 * a stream) gets its own objects, as the app would have made them without this file.
 */
export function canBeLazy(status: number): boolean {
  return globalThis.Response === NativeResponse && Number.isInteger(status) && status >= 200 && status <= 599 && status !== 204 && status !== 205 && status !== 304;
}
