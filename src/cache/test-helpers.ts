// Shared by the cache's tests: a scripted origin (a Handler that counts calls), a controllable
// clock, and requests with a context. No sockets: the rules are tested at the handler contract.
import { PassThrough, Readable } from 'node:stream';
import type { Handler, PorticoRequest, PorticoResponse, ResponseHeaders } from '../http/types.ts';
import { RequestContext, formatServerTiming } from '../http/context.ts';
import { HttpCache, type HttpCacheOptions } from './http-cache.ts';
import { MemoryStore } from './memory-store.ts';

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

export class Clock {
  t = T0;
  now = (): number => this.t;
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
  date(offsetSeconds = 0): string {
    return new Date(this.t + offsetSeconds * 1000).toUTCString();
  }
}

export interface Origin {
  handler: Handler;
  calls: PorticoRequest[];
}

/** An origin answering from `respond`; each call is recorded with the headers it got. */
export function origin(respond: (req: PorticoRequest, n: number) => PorticoResponse | Promise<PorticoResponse>): Origin {
  const calls: PorticoRequest[] = [];
  return { calls, handler: (req) => { calls.push(req); return respond(req, calls.length); } };
}

export function ok(body: string, headers: ResponseHeaders = {}, status = 200): PorticoResponse {
  return { status, headers: { 'content-type': 'text/plain', ...headers }, body };
}

export function makeCache(clock: Clock, options: Partial<HttpCacheOptions> = {}): HttpCache {
  return new HttpCache({
    store: new MemoryStore({ maxBytes: 1 << 24 }),
    maxObjectBytes: 1 << 20,
    heuristic: { fraction: 0.1, max: 86_400_000 },
    coalesceTimeout: 5_000,
    grace: 0,
    now: clock.now,
    ...options,
  });
}

export function request(target: string, headers: Record<string, string> = {}, method = 'GET'): PorticoRequest {
  const q = target.indexOf('?');
  return { method, target, path: q < 0 ? target : target.slice(0, q), query: q < 0 ? '' : target.slice(q + 1), headers, body: null, httpVersion: '1.1' };
}

export function context(host = 'example.com'): RequestContext {
  return new RequestContext('127.0.0.1', false, '127.0.0.1', 40000, 'http', host);
}

export interface Result {
  status: number;
  headers: ResponseHeaders;
  text: string;
  timing: string;
}

/** Runs one request through `handler` and reads the body whole. */
export async function send(handler: Handler, req: PorticoRequest, ctx = context()): Promise<Result> {
  const res = await handler(req, ctx);
  return { status: res.status, headers: res.headers, text: await readBody(res.body), timing: formatServerTiming(ctx.timings) };
}

export async function readBody(body: PorticoResponse['body']): Promise<string> {
  if (body === null) return '';
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString();
  const chunks: Buffer[] = [];
  for await (const c of body as Readable) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString();
}

/** A body the test writes to piece by piece. */
export function streamBody(): PassThrough {
  return new PassThrough();
}
