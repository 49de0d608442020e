// The one contract every layer implements (DESIGN.md principle 1).
//
// A handler takes the request head (+ streamed body) and the per-request context and returns a
// response value. A layer wraps the next handler once, at start-up or reload, never per request:
// the per-request cost of a layer is one function call. Plain objects rather than WHATWG
// Request/Response on the data plane: the I/O-model benchmark (docs/io-model.md) shows their
// allocation and stream bridging cost more than a proxy's whole budget. Apps still get
// `Request`/`Response` at the application boundary (src/appserver, src/framework).
import type { Readable } from 'node:stream';
import type { RequestContext } from './context.ts';

/** Field names lowercased; repeated fields joined with ", " (RFC 9110 §5.3), cookies with "; " (RFC 9113 §8.2.3). */
export type RequestHeaders = Record<string, string>;
/** Field names lowercased; `set-cookie` may be an array since it cannot be joined (RFC 6265 §3). */
export type ResponseHeaders = Record<string, string | string[]>;

/** A response body: nothing, a complete payload, or a stream (flows with backpressure). */
export type Body = null | string | Uint8Array | Readable;

export interface PorticoRequest {
  readonly method: string;
  /** The request-target in origin-form, exactly as received (RFC 9112 §3.2.1). */
  readonly target: string;
  /** The path part of the target, still percent-encoded. */
  readonly path: string;
  /** The query without its "?", or "" when there is none. */
  readonly query: string;
  readonly headers: RequestHeaders;
  /** The request content, or null when the message has none (RFC 9112 §6.3). */
  readonly body: Readable | null;
  readonly httpVersion: string;
}

export interface PorticoResponse {
  status: number;
  headers: ResponseHeaders;
  body: Body;
  /**
   * Trailer fields (RFC 9110 §6.5), names lowercased, settled once the body stream has ended; null
   * or `{}` = none. Producers must resolve it (never leave it pending; null if the body failed) and
   * should not reject. They travel with a stream body only: the edge writes them where the framing
   * can carry them (a chunked HTTP/1.1 response, h2) and drops framing, routing, auth and control
   * fields (src/http/trailers.ts); a complete body goes out with Content-Length and without them
   * (RFC 9110 §6.5.2 lets a recipient discard trailers). A layer that rewrites the body
   * (compression) or stores it (cache) builds a new response without them.
   */
  trailers?: Promise<Record<string, string> | null>;
  /**
   * Set only by code that checked these fields as the edge's writer would: the own upstream
   * client's strict head parser (src/proxy/h1-client), and static files' prepared heads, checked
   * once per file (src/static/serve-static.ts). The fields as name, value pairs in the order they
   * were first added. A writer may send a field
   * whose name and value still equal its pair there without checking them again; anything a layer
   * added or changed no longer matches and is checked as usual (src/edge/h1/http1-syntax.ts).
   */
  checkedFields?: CheckedFields | null;
}

/** Name, value, name, value…; a null value (a list field such as set-cookie) is never taken as checked. */
export type CheckedFields = readonly (string | null)[];

export type Handler = (req: PorticoRequest, ctx: RequestContext) => PorticoResponse | Promise<PorticoResponse>;

/**
 * A layer: a named wrapper around the next handler. `wrap` runs once per (re)build of the chain.
 * `name` and `describe` feed `portico middleware` so the chain can be listed like `rails middleware`.
 */
export interface Layer {
  readonly name: string;
  readonly describe?: string;
  wrap(next: Handler): Handler;
}
