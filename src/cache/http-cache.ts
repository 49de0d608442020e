// The shared cache as a layer (RFC 9111): looks a request up, serves what is fresh, validates
// what is stale, fetches what is missing (one upstream request per key at a time, see flight.ts),
// and invalidates on unsafe methods (§4.4). Runtime state (store, in-flight fetches, counters)
// lives in this object, apart from config, so it can outlive a reload.
import type { Handler, PorticoRequest, PorticoResponse } from '../http/types.ts';
import type { RequestContext } from '../http/context.ts';
import { deltaSeconds, requestDirectives, type Directives } from './cache-control.ts';
import { header, type HeuristicOptions } from './freshness.ts';
import { EntryFacts } from './entry-facts.ts';
import { primaryKey, primaryKeyOf, varyMatches } from './cache-key.ts';
import { addStatus, fromStore } from './serve.ts';
import type { CacheStore, StoredResponse } from './store.ts';
import { Flights, type FlightKey, type FlightResult } from './flight.ts';
import { failOpen } from './fail-open.ts';
import type { PurgeGuard } from './purge-method.ts';
import { ForbiddenError } from '../http/errors.ts';

export interface HttpCacheOptions {
  store: CacheStore;
  /** Bodies larger than this stream through without being stored. */
  maxObjectBytes: number;
  heuristic: HeuristicOptions;
  /** How long a coalesced request waits for the response head of the fetch it joined, ms. */
  coalesceTimeout: number;
  /** How long past its lifetime a response may be served when the origin fails and it set no stale-if-error, ms (Varnish's grace). */
  grace: number;
  /** Request fields added to the primary key. */
  keyHeaders?: readonly string[];
  /** The clock, ms since the epoch; tests pass a controllable one. */
  now?: () => number;
  /** The cache's name in Cache-Status (RFC 9211 §2). */
  name?: string;
  /** Told when the store fails; the request goes on as a miss (fail-open.ts). */
  onStoreError?: (err: unknown) => void;
  /** Closes what the cache owns beyond the store (a Redis client it made). */
  onClose?: () => Promise<void>;
  /** Who may send `PURGE <target>` (purge-method.ts); absent, PURGE is an unsafe method like any other. */
  purge?: PurgeGuard;
}

export interface CacheCounters {
  hit: number;
  miss: number;
  stale: number;
  revalidated: number;
  pass: number;
  coalesced: number;
}

/** How one route uses the cache (per config snapshot; the cache itself outlives reloads). */
export interface WrapOptions {
  /**
   * A request field that a layer in front has already normalised to the few values that select
   * different variants (accept-encoding-key.ts: `br` / `zstd` / `gzip` / `identity`): concurrent
   * misses coalesce per value of it, not per URL, so one coding's fetch never holds up another's.
   */
  flightField?: string;
}

/** What `POST /cache/purge` accepts. */
export type PurgeRequest = { url: string } | { prefix: string } | { tag: string };

/** Methods RFC 9110 §9.2.1 defines as safe: they never invalidate. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export class HttpCache {
  readonly counters: CacheCounters = { hit: 0, miss: 0, stale: 0, revalidated: 0, pass: 0, coalesced: 0 };
  readonly store: CacheStore;
  /** The store as the request path uses it: failures read as misses. */
  private readonly safe: CacheStore;
  private readonly options: HttpCacheOptions;
  private readonly now: () => number;
  private readonly name: string;
  private readonly flights: Flights;
  private readonly facts: EntryFacts;

  constructor(options: HttpCacheOptions) {
    this.options = options;
    this.store = options.store;
    this.safe = failOpen(options.store, options.onStoreError ?? (() => {}));
    this.now = options.now ?? Date.now;
    this.name = options.name ?? 'portico';
    this.facts = new EntryFacts(options.heuristic);
    this.flights = new Flights({ store: this.safe, now: this.now, maxObjectBytes: options.maxObjectBytes, heuristic: options.heuristic, facts: this.facts, coalesceTimeout: options.coalesceTimeout });
  }

  async close(): Promise<void> {
    await this.store.close();
    await this.options.onClose?.();
  }

  wrap(next: Handler, options: WrapOptions = {}): Handler {
    const field = options.flightField;
    return async (req, ctx) => {
      const slot = ctx.startTiming('cache');
      try {
        return await this.handle(req, ctx, next, slot, field);
      } catch (err) {
        // The error answer still shows the cache's time (the stage failed behind it, or refused).
        ctx.timings[slot].name = 'cache;desc=error';
        ctx.endTiming(slot);
        throw err;
      }
    };
  }

  /** Forgets a URL's stored variants (every variant of `GET scheme://host/target`, whatever the keyHeaders). */
  async purge(scheme: string, host: string, target: string): Promise<number> {
    const primary = primaryKeyOf(scheme, host.toLowerCase(), target);
    return await this.store.delete(primary) + await this.store.deletePrefix(`${primary}\0`);
  }

  /** Purges by what an operator names: an absolute URL, a URL prefix (a ban), or a tag. */
  async purgeBy(what: PurgeRequest): Promise<number> {
    if ('tag' in what) return this.store.deleteTag(what.tag);
    const url = new URL('url' in what ? what.url : what.prefix);
    const scheme = url.protocol.slice(0, -1);
    if ('url' in what) return this.purge(scheme, url.hostname, url.pathname + url.search);
    return this.store.deletePrefix(primaryKeyOf(scheme, url.hostname.toLowerCase(), url.pathname + url.search));
  }

  private async handle(req: PorticoRequest, ctx: RequestContext, next: Handler, slot: number, field: string | undefined): Promise<PorticoResponse> {
    const done = (res: PorticoResponse, desc: string, status: string, x: 'HIT' | 'MISS' | 'STALE' | 'PASS') => {
      ctx.timings[slot].name = `cache;desc=${desc}`;
      ctx.endTiming(slot);
      addStatus(res.headers, this.name, status, x);
      return res;
    };
    if (req.method === 'PURGE' && this.options.purge !== undefined) {
      if (!this.options.purge(ctx.clientAddress, req.headers['authorization'])) {
        throw new ForbiddenError('PURGE is not allowed from this client', 'PURGE_FORBIDDEN');
      }
      const purged = await this.purge(ctx.scheme, ctx.host, req.target);
      const body = JSON.stringify({ ok: true, purged }) + '\n';
      return done({ status: 200, headers: { 'content-type': 'application/json', 'content-length': String(body.length) }, body }, 'purge', 'detail=purge', 'PASS');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.counters.pass++;
      const res = await next(req, ctx);
      if (!SAFE.has(req.method) && res.status >= 200 && res.status < 400) await this.invalidate(req, ctx, res);
      return done(res, 'pass', 'fwd=method', 'PASS');
    }
    // A Range request (RFC 9110 §14.2) takes the same path as any GET: a hit is sliced from the
    // stored response; a miss fetches the whole response without Range, keeps it, and slices it
    // (flight.ts), as Varnish does; what cannot be kept goes upstream with the client's Range.
    const reqCc = requestDirectives(req.headers);
    const primary = primaryKey(req, ctx, this.options.keyHeaders);
    const key: FlightKey = { primary, flight: field === undefined ? primary : `${primary}\0~${field}=${req.headers[field] ?? ''}` };
    const variants = await this.safe.variants(primary);
    const stored = variants.find((v) => varyMatches(v.vary, v.varyValues, req.headers));
    if (stored === undefined) {
      if (reqCc.has('only-if-cached')) return done(onlyIfCached(), 'miss', 'fwd=miss; detail=only-if-cached', 'MISS');
      return this.fetch(req, ctx, next, key, undefined, variants.length > 0 ? 'fwd=vary-miss' : 'fwd=uri-miss', done);
    }
    const now = this.now();
    const facts = this.facts.of(stored);
    const age = facts.initialAge + now - stored.responseTime;
    const cc = facts.cc;
    const lifetime = facts.lifetime;
    const ttl = Math.floor((lifetime - age) / 1000);
    if (usable(reqCc, cc, age, lifetime)) {
      this.counters.hit++;
      return done(fromStore(req, stored, age), 'hit', `hit; ttl=${ttl}`, 'HIT');
    }
    // RFC 5861 §3: within stale-while-revalidate, answer now and validate once in the background.
    // Not when the client asked for a bounded age or freshness (RFC 9111 §5.2.1.1, §5.2.1.3: it
    // "does not wish to receive a stale response"), e.g. a browser reload's max-age=0.
    const swr = deltaSeconds(cc, 'stale-while-revalidate');
    if (swr !== undefined && mayServeStale(cc, reqCc) && age - lifetime <= swr * 1000 && !reqCc.has('max-age') && !reqCc.has('min-fresh')) {
      this.counters.stale++;
      this.flights.background(key, req, ctx, next, stored);
      return done(fromStore(req, stored, age), 'stale', `hit; ttl=${ttl}; detail=stale-while-revalidate`, 'STALE');
    }
    // §5.2.1.7: only-if-cached takes a stored response the rules allow (fresh, or stale within the windows above), else 504.
    if (reqCc.has('only-if-cached')) return done(onlyIfCached(), 'miss', 'fwd=stale; detail=only-if-cached', 'MISS');
    // §4.3.5: a HEAD that goes upstream updates every stored GET response it could have selected.
    const candidates = req.method === 'HEAD' ? variants.filter((v) => varyMatches(v.vary, v.varyValues, req.headers)) : [];
    // RFC 9211 §2.2: `fwd=request` when the stored response was fresh but the request's directives refused it.
    const fwd = lifetime > age && cc.get('no-cache') !== true ? 'fwd=request' : 'fwd=stale';
    return this.fetch(req, ctx, next, key, stored, fwd, done, candidates);
  }

  private async fetch(
    req: PorticoRequest, ctx: RequestContext, next: Handler, key: FlightKey, stale: StoredResponse | undefined, fwd: string,
    done: (res: PorticoResponse, desc: string, status: string, x: 'HIT' | 'MISS' | 'STALE' | 'PASS') => PorticoResponse,
    candidates: readonly StoredResponse[] = [],
  ): Promise<PorticoResponse> {
    const staleIfError = stale === undefined ? null : this.staleIfError(req, stale);
    const outcome: FlightResult = await this.flights.run(key, req, ctx, next, stale, staleIfError, this.options.coalesceTimeout, candidates);
    const collapsed = outcome.collapsed ? '; collapsed' : '';
    if (outcome.collapsed) this.counters.coalesced++;
    switch (outcome.kind) {
      case 'stored': {
        const age = this.facts.age(outcome.entry, this.now());
        this.counters.revalidated++;
        return done(fromStore(req, outcome.entry, age), 'revalidated', `${fwd}; fwd-status=304${collapsed}`, 'HIT');
      }
      case 'stale': {
        this.counters.stale++;
        const age = this.facts.age(outcome.entry, this.now());
        return done(fromStore(req, outcome.entry, age), 'stale', `${fwd}; fwd-status=${outcome.upstreamStatus}; detail=stale-if-error${collapsed}`, 'STALE');
      }
      case 'response': {
        this.counters.miss++;
        const stored = outcome.stored ? '; stored' : '';
        return done(outcome.response, 'miss', `${fwd}; fwd-status=${outcome.fwdStatus ?? outcome.response.status}${stored}${collapsed}`, 'MISS');
      }
    }
  }

  /** The window (ms past expiry) in which a failed fetch may be answered with `stale`, or null when the rules forbid it. */
  private staleIfError(req: PorticoRequest, stale: StoredResponse): { deadline: number } | null {
    const { cc, lifetime } = this.facts.of(stale);
    const reqCc = requestDirectives(req.headers);
    if (!mayServeStale(cc, reqCc)) return null;
    // RFC 5861 §4: the response's stale-if-error, or the request's; else the configured grace.
    const sie = Math.max(deltaSeconds(cc, 'stale-if-error') ?? -1, deltaSeconds(reqCc, 'stale-if-error') ?? -1);
    const window = sie >= 0 ? sie * 1000 : this.options.grace;
    if (window <= 0) return null;
    return { deadline: lifetime + window };
  }

  /** RFC 9111 §4.4: a non-error response to an unsafe method invalidates the target, Location and Content-Location (same origin only). */
  private async invalidate(req: PorticoRequest, ctx: RequestContext, res: PorticoResponse): Promise<void> {
    const base = `${ctx.scheme}://${ctx.host}`;
    const targets = [req.target];
    for (const name of ['location', 'content-location']) {
      const v = header(res.headers, name);
      if (v === undefined) continue;
      try {
        const url = new URL(v, base + req.target);
        // Another origin's entries are not ours to drop: that would let one site evict another's.
        if (url.protocol === `${ctx.scheme}:` && url.hostname === ctx.host) targets.push(url.pathname + url.search);
      } catch {
        // An unparsable URI names nothing we stored.
      }
    }
    // With keyHeaders, a URI's entries sit under `<primary>\0<name>=<value>` keys: every one of them goes.
    const keyed = (this.options.keyHeaders?.length ?? 0) > 0;
    await Promise.all(targets.map(async (t) => {
      const primary = primaryKeyOf(ctx.scheme, ctx.host, t);
      await this.safe.delete(primary);
      if (keyed) await this.safe.deletePrefix(`${primary}\0`).catch(() => 0);
    }));
  }
}

/** Whether a stored response may be served as it is (RFC 9111 §4.2, §5.2.1, §5.2.2). */
function usable(reqCc: Directives, cc: Directives, age: number, lifetime: number): boolean {
  // §5.2.2.4 / §5.2.1.4: no-cache (unqualified) in either message means validate first.
  if (reqCc.has('no-cache') || cc.get('no-cache') === true) return false;
  const maxAge = deltaSeconds(reqCc, 'max-age');
  if (maxAge !== undefined && age > maxAge * 1000) return false;
  const minFresh = deltaSeconds(reqCc, 'min-fresh');
  if (minFresh !== undefined && lifetime - age < minFresh * 1000) return false;
  if (lifetime > age) return true;
  // §5.2.1.2: max-stale lets a client accept a stale response, unless the origin forbade it.
  const maxStale = reqCc.get('max-stale');
  // s-maxage implies proxy-revalidate for a shared cache (§5.2.2.10): no max-stale past it.
  if (maxStale === undefined || !mayServeStale(cc, reqCc) || cc.has('s-maxage')) return false;
  const limit = deltaSeconds(reqCc, 'max-stale');
  return maxStale === true || (limit !== undefined && age - lifetime <= limit * 1000);
}

/**
 * RFC 9111 §4.2.4: no stale response where must-revalidate, proxy-revalidate or no-cache forbids
 * it. (s-maxage implies proxy-revalidate, §5.2.2.10, but an explicit stale-while-revalidate or
 * stale-if-error from the same origin is a later, narrower permission: we honour it, as CDNs do.)
 */
function mayServeStale(cc: Directives, reqCc: Directives): boolean {
  return !cc.has('must-revalidate') && !cc.has('proxy-revalidate') && !cc.has('no-cache') && !reqCc.has('no-cache');
}

/** RFC 9111 §5.2.1.7: only-if-cached and nothing usable stored → 504. */
function onlyIfCached(): PorticoResponse {
  return { status: 504, headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': '38' }, body: '504 Gateway Timeout: not in the cache\n' };
}
