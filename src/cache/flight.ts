// Fetches on behalf of the cache, one at a time per key (request coalescing, Varnish's "waiting
// list"; the key is the primary key, or a variant's: FlightKey): the first request leads, later
// ones for the same key wait for the leader's response head and then read its body as it streams
// (broadcast.ts). A response that turns out
// not to be storable, or not to match a waiter's Vary, releases the waiters to go upstream
// themselves; so does a leader slower than the coalescing timeout.
import type { Readable } from 'node:stream';
import type { Handler, PorticoRequest, PorticoResponse, ResponseHeaders } from '../http/types.ts';
import { RequestContext } from '../http/context.ts';
import { parseCacheControl, requestDirectives } from './cache-control.ts';
import { freshnessLifetime, header, type HeuristicOptions } from './freshness.ts';
import { variantKey, varyMatches, varyNames, varyValues } from './cache-key.ts';
import { mergeNotModified, notModified, notModifiedHeaders, validationHeaders, validatorsAgree, withoutConditionals } from './conditional.ts';
import { storageDecision } from './storable.ts';
import { Broadcast } from './broadcast.ts';
import { fromStore } from './serve.ts';
import { isRanged, rangedOrWhole } from './range.ts';
import { forwardHead } from './head-update.ts';
import type { EntryFacts } from './entry-facts.ts';
import { awaitRemote } from './coalesce-lock.ts';
import type { CacheStore, StoredResponse } from './store.ts';

/** What one request gets from a fetch, led or joined. */
export type FlightResult =
  | { kind: 'stored'; entry: StoredResponse; collapsed: boolean }
  | { kind: 'stale'; entry: StoredResponse; upstreamStatus: number; collapsed: boolean }
  | { kind: 'response'; response: PorticoResponse; stored: boolean; collapsed: boolean; /** What upstream answered, when the client got something else (a 304, a 206). */ fwdStatus?: number };

/** What a leader publishes to its waiters. */
type Shared =
  | { kind: 'stream'; status: number; headers: ResponseHeaders; vary: string[]; varyValues: Record<string, string>; broadcast: Broadcast }
  | { kind: 'entry'; entry: StoredResponse; as: 'stored' | 'stale' | 'fresh'; upstreamStatus: number }
  | { kind: 'pass' };

export interface FlightOptions {
  store: CacheStore;
  now: () => number;
  maxObjectBytes: number;
  heuristic: HeuristicOptions;
  facts: EntryFacts;
  /** How long a miss waits for another instance's fetch of the same key (stores with a shared lock), ms. */
  coalesceTimeout: number;
}

/**
 * Where a fetch is stored (`primary`) and what it is coalesced under (`flight`, also the shared
 * store's fetch lock): the primary key, or the primary key plus a request field the cache knows
 * selects a different variant (the normalised Accept-Encoding: accept-encoding-key.ts), so
 * requests for different variants never wait for each other's response only to find it unusable.
 */
export interface FlightKey {
  primary: string;
  flight: string;
}

/** When stale content may stand in for a failed fetch: the age (ms) up to which it still may. */
export type StaleIfError = { deadline: number } | null;

export class Flights {
  private readonly inflight = new Map<string, Promise<Shared>>();
  private readonly o: FlightOptions;

  constructor(options: FlightOptions) {
    this.o = options;
  }

  /** `candidates`: for a HEAD, the stored GET responses it could have selected (§4.3.5 updates them). */
  async run(
    key: FlightKey, req: PorticoRequest, ctx: RequestContext, next: Handler, stale: StoredResponse | undefined, sie: StaleIfError,
    timeout: number, candidates: readonly StoredResponse[] = [],
  ): Promise<FlightResult> {
    const flight = this.inflight.get(key.flight);
    if (flight !== undefined) {
      const shared = await withTimeout(flight, timeout);
      const joined = shared === undefined ? null : await this.join(shared, req);
      if (joined !== null) return joined;
      return { kind: 'response', response: await next(req, ctx), stored: false, collapsed: false };
    }
    // A HEAD has no content to share or store: it goes on its own (a stored GET still answers it),
    // and what it brings back freshens or invalidates the stored GET responses (§4.3.5).
    if (req.method === 'HEAD') {
      const response = await forwardHead(this.o.store, this.o.now, key.primary, req, ctx, next, candidates);
      return { kind: 'response', response, stored: false, collapsed: false };
    }
    return this.lead(key, req, ctx, next, stale, sie);
  }

  /** RFC 5861 §3: one background validation per key; the client already has its stale answer. */
  background(key: FlightKey, req: PorticoRequest, ctx: RequestContext, next: Handler, stale: StoredResponse): void {
    if (this.inflight.has(key.flight)) return;
    // A HEAD served stale still validates the stored GET response with a GET (a HEAD's answer has nothing to store).
    const get = req.method === 'HEAD' ? { ...req, method: 'GET' } : req;
    this.lead(key, get, detached(ctx), next, stale, null).then(
      (r) => { if (r.kind === 'response') discard(r.response.body); },
      () => {},
    );
  }

  private async lead(key: FlightKey, req: PorticoRequest, ctx: RequestContext, next: Handler, stale: StoredResponse | undefined, sie: StaleIfError): Promise<FlightResult> {
    let publish!: (s: Shared) => void;
    const flight = new Promise<Shared>((resolve) => { publish = resolve; });
    const { primary } = key;
    this.inflight.set(key.flight, flight);
    let release: (() => Promise<void>) | null = null;
    const unlock = () => { if (release !== null) void release().catch(() => {}); release = null; };
    const finish = (s: Shared) => {
      publish(s);
      if (this.inflight.get(key.flight) === flight) this.inflight.delete(key.flight);
      unlock();
    };
    // A miss on a store shared by several instances: one instance fetches, the others wait for its entry.
    if (stale === undefined && this.o.store.lock !== undefined) {
      release = await this.o.store.lock(key.flight, this.o.coalesceTimeout);
      if (release === null) {
        const entry = await awaitRemote({ store: this.o.store, facts: this.o.facts, now: this.o.now, timeout: this.o.coalesceTimeout }, key, req);
        if (entry !== null) {
          finish({ kind: 'entry', entry, as: 'fresh', upstreamStatus: entry.status });
          return { kind: 'response', response: fromStore(req, entry, this.o.facts.age(entry, this.o.now())), stored: false, collapsed: true, fwdStatus: entry.status };
        }
      }
    }
    // The fetch runs on its own context: the leading client leaving must not abort the fetch its waiters read.
    const fctx = detached(ctx);
    const validation = stale === undefined ? undefined : validationHeaders(req.headers, stale.headers);
    const upstreamReq: PorticoRequest = { ...req, headers: validation ?? withoutConditionals(req.headers) };
    const requestTime = this.o.now();
    let res: PorticoResponse;
    try {
      res = await next(upstreamReq, fctx);
    } catch (err) {
      copyBack(fctx, ctx);
      const status = (err as { status?: number }).status ?? 502;
      if (stale !== undefined && status >= 500 && this.withinGrace(stale, sie)) {
        finish({ kind: 'entry', entry: stale, as: 'stale', upstreamStatus: status });
        return { kind: 'stale', entry: stale, upstreamStatus: status, collapsed: false };
      }
      finish({ kind: 'pass' });
      throw err;
    }
    copyBack(fctx, ctx);
    const responseTime = this.o.now();
    if (res.status === 304 && stale !== undefined && validation !== undefined) {
      discard(res.body);
      if (validatorsAgree(stale.headers, res.headers)) {
        // §4.3.4: the 304's fields replace the stored ones; the times restart the age (§4.2.3).
        const entry: StoredResponse = { ...stale, headers: mergeNotModified(stale.headers, res.headers), requestTime, responseTime };
        await this.o.store.put(primary, entry);
        finish({ kind: 'entry', entry, as: 'stored', upstreamStatus: 304 });
        return { kind: 'stored', entry, collapsed: false };
      }
      // The origin validated some other representation than the one we hold: ask for it whole.
      finish({ kind: 'pass' });
      return { kind: 'response', response: await next({ ...req, headers: withoutConditionals(req.headers) }, ctx), stored: false, collapsed: false };
    }
    if (res.status >= 500 && stale !== undefined && this.withinGrace(stale, sie)) {
      discard(res.body);
      finish({ kind: 'entry', entry: stale, as: 'stale', upstreamStatus: res.status });
      return { kind: 'stale', entry: stale, upstreamStatus: res.status, collapsed: false };
    }
    const cc = parseCacheControl(res.headers['cache-control']);
    const decision = storageDecision(req, requestDirectives(req.headers), res.status, res.headers, cc);
    const lifetime = freshnessLifetime(res.status, res.headers, cc, responseTime, this.o.heuristic);
    // Kept only if it can ever be reused: fresh for a while, or validatable, or servable stale.
    const reusable = lifetime > 0 || res.headers['etag'] !== undefined || res.headers['last-modified'] !== undefined ||
      cc.has('stale-while-revalidate') || cc.has('stale-if-error');
    if (!decision.store || !reusable) {
      finish({ kind: 'pass' });
      // The Range went unasked and nothing will be kept to slice it from: ask again with it.
      if (isRanged(req) && res.status === 200 && isStream(res.body)) return { kind: 'response', response: await this.again(req, ctx, next, res), stored: false, collapsed: false };
      return { kind: 'response', response: this.answerClient(req, res, res.body), stored: false, collapsed: false, fwdStatus: res.status };
    }
    const headers: ResponseHeaders = {};
    for (const name in res.headers) {
      if (!decision.strip.includes(name) && name !== 'cache-status' && name !== 'x-cache') headers[name] = res.headers[name];
    }
    const vary = varyNames(headers);
    const values = varyValues(vary, req.headers);
    const base = { variant: variantKey(vary, values), vary, varyValues: values, status: res.status, headers, requestTime, responseTime, tags: tagsOf(headers) };
    const body = res.body;
    if (!isStream(body)) {
      const entry: StoredResponse = { ...base, body: Buffer.from(body ?? '') };
      const stored = entry.body.byteLength <= this.o.maxObjectBytes && await this.o.store.put(primary, entry);
      finish(stored ? { kind: 'entry', entry, as: 'fresh', upstreamStatus: res.status } : { kind: 'pass' });
      return { kind: 'response', response: this.answerClient(req, { ...res, headers: { ...headers } }, entry.body), stored, collapsed: false, fwdStatus: res.status };
    }
    const ranged = isRanged(req) && res.status === 200 && !notModified(req.headers, headers);
    // Too big to keep (Content-Length says so at once): the client's Range goes upstream as it was.
    if (ranged && Number(header(headers, 'content-length')) > this.o.maxObjectBytes) {
      finish({ kind: 'pass' });
      return { kind: 'response', response: await this.again(req, ctx, next, res), stored: false, collapsed: false };
    }
    const broadcast = new Broadcast(body, this.o.maxObjectBytes);
    publish({ kind: 'stream', status: res.status, headers, vary, varyValues: values, broadcast });
    void broadcast.done.then(async (whole) => {
      if (whole !== null) await this.o.store.put(primary, { ...base, body: whole });
      if (this.inflight.get(key.flight) === flight) this.inflight.delete(key.flight);
      unlock();
    });
    if (ranged) {
      // As Varnish does: the whole object is fetched and kept, and the range is cut from it.
      const whole = await broadcast.done;
      if (whole === null) return { kind: 'response', response: await next(req, ctx), stored: false, collapsed: false };
      return { kind: 'response', response: rangedOrWhole(req, res.status, { ...headers }, whole), stored: true, collapsed: false, fwdStatus: res.status };
    }
    const reader = notModified(req.headers, headers) ? null : broadcast.subscribe();
    return { kind: 'response', response: this.answerClient(req, { status: res.status, headers: { ...headers }, body: reader }, reader), stored: true, collapsed: false, fwdStatus: res.status };
  }

  /**
   * Leader and waiters alike: the client's own conditionals and Range are answered here, since the
   * fetch went without them (RFC 9110 §13.2.2: preconditions first, then Range).
   */
  private answerClient(req: PorticoRequest, res: PorticoResponse, body: PorticoResponse['body']): PorticoResponse {
    if (res.status === 200 && notModified(req.headers, res.headers)) {
      if (body !== res.body) discard(res.body);
      discard(body);
      return { status: 304, headers: notModifiedHeaders(res.headers), body: null };
    }
    if (res.status === 200 && isRanged(req) && !isStream(body)) {
      return rangedOrWhole(req, 200, res.headers, typeof body === 'string' ? Buffer.from(body) : body ?? Buffer.alloc(0));
    }
    return { status: res.status, headers: res.headers, body };
  }

  /** The client's own request, Range and all, after a full response that cannot serve it was dropped. */
  private async again(req: PorticoRequest, ctx: RequestContext, next: Handler, dropped: PorticoResponse): Promise<PorticoResponse> {
    discard(dropped.body);
    return next(req, ctx);
  }

  private async join(shared: Shared, req: PorticoRequest): Promise<FlightResult | null> {
    if (shared.kind === 'pass') return null;
    if (shared.kind === 'entry') {
      const e = shared.entry;
      if (!varyMatches(e.vary, e.varyValues, req.headers)) return null;
      if (shared.as === 'stale') return { kind: 'stale', entry: e, upstreamStatus: shared.upstreamStatus, collapsed: true };
      if (shared.as === 'stored') return { kind: 'stored', entry: e, collapsed: true };
      return { kind: 'response', response: fromStore(req, e, this.o.facts.age(e, this.o.now())), stored: true, collapsed: true, fwdStatus: e.status };
    }
    if (!varyMatches(shared.vary, shared.varyValues, req.headers)) return null;
    const headers = { ...shared.headers };
    if (shared.status === 200 && notModified(req.headers, headers)) {
      return { kind: 'response', response: { status: 304, headers: notModifiedHeaders(headers), body: null }, stored: true, collapsed: true, fwdStatus: shared.status };
    }
    if (shared.status === 200 && isRanged(req)) {
      // A range is cut from the whole body once it is in; a body too big to keep sends this waiter upstream with its Range.
      const whole = await shared.broadcast.done;
      return whole === null ? null : { kind: 'response', response: rangedOrWhole(req, 200, headers, whole), stored: true, collapsed: true, fwdStatus: 200 };
    }
    const reader = req.method === 'HEAD' ? null : shared.broadcast.subscribe();
    if (reader === null && req.method !== 'HEAD') return null;
    return { kind: 'response', response: { status: shared.status, headers, body: reader }, stored: true, collapsed: true };
  }

  private withinGrace(stale: StoredResponse, sie: StaleIfError): boolean {
    return sie !== null && this.o.facts.age(stale, this.o.now()) <= sie.deadline;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    p.then((v) => { clearTimeout(timer); resolve(v); });
  });
}

function detached(ctx: RequestContext): RequestContext {
  const d = new RequestContext(ctx.peerAddress, ctx.peerTrusted, ctx.clientAddress, ctx.clientPort, ctx.scheme, ctx.host, ctx.id);
  d.route = ctx.route;
  return d;
}

function copyBack(from: RequestContext, to: RequestContext): void {
  to.upstreamAddress = from.upstreamAddress;
  for (const t of from.timings) to.timings.push(t);
}

/** `Cache-Tag` (comma-separated, Cloudflare) and `Surrogate-Key` (space-separated, Fastly). */
function tagsOf(h: ResponseHeaders): string[] {
  const tags: string[] = [];
  for (const t of (header(h, 'cache-tag') ?? '').split(',')) if (t.trim() !== '') tags.push(t.trim());
  for (const t of (header(h, 'surrogate-key') ?? '').split(' ')) if (t.trim() !== '') tags.push(t.trim());
  return tags;
}

function isStream(body: PorticoResponse['body']): body is Readable {
  return body !== null && typeof body !== 'string' && !(body instanceof Uint8Array);
}

function discard(body: PorticoResponse['body']): void {
  if (body === null || typeof body === 'string' || body instanceof Uint8Array) return;
  (body as Readable).on('error', () => {});
  (body as Readable).destroy();
}
