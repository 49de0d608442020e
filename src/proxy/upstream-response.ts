// The PorticoResponse made from an undici response, with its trailers (RFC 9110 §6.5) read lazily.
// undici's request() fills `ResponseData.trailers` just before it ends the body stream (h1: the
// chunked trailer section; h2: the trailing HEADERS frame), so once the stream has ended they are
// complete. Most responses are never asked for trailers (the edge asks only when it can send them:
// a chunked h1 or an h2 response), so the promise and its listener are built on first access only.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { PorticoResponse, ResponseHeaders } from '../http/types.ts';

type Trailers = Promise<Record<string, string> | null>;

export class UpstreamResponse implements PorticoResponse {
  status: number;
  headers: ResponseHeaders;
  body: Readable;
  #source: Dispatcher.ResponseData;
  #trailers: Trailers | undefined = undefined;
  #set = false;

  constructor(source: Dispatcher.ResponseData, headers: ResponseHeaders) {
    this.status = source.statusCode;
    this.headers = headers;
    this.body = source.body;
    this.#source = source;
  }

  get trailers(): Trailers | undefined {
    if (this.#set) return this.#trailers;
    this.#set = true;
    return (this.#trailers = upstreamTrailers(this.#source));
  }

  /** A layer may replace or drop them (set undefined), e.g. when it rewrites the body. */
  set trailers(value: Trailers | undefined) {
    this.#set = true;
    this.#trailers = value;
  }
}

/**
 * Settles with the trailers once the body has ended, or null if it was destroyed first (the
 * client left, the upstream failed mid-body): a truncated body's trailers would describe content
 * nobody received. Never rejects.
 */
export function upstreamTrailers(res: Dispatcher.ResponseData): Trailers {
  const body = res.body;
  if (body.readableEnded) return Promise.resolve(collect(res.trailers));
  if (body.destroyed) return Promise.resolve(null);
  return new Promise((resolve) => {
    body.once('close', () => resolve(body.readableEnded ? collect(res.trailers) : null));
  });
}

/** undici keeps a repeated trailer as an array despite its type; join like header lines (RFC 9110 §5.3). */
function collect(trailers: Record<string, string | string[] | undefined> | undefined): Record<string, string> | null {
  if (trailers === undefined) return null;
  let out: Record<string, string> | null = null;
  for (const name in trailers) {
    const v = trailers[name];
    if (v !== undefined) (out ??= {})[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
