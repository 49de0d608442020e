// Builds each route's own handler, once per config snapshot: where a matched request ends up.
import type { Handler } from '../http/types.ts';
import type { ResolvedCache, ResolvedRoute } from '../config/resolved.ts';
import { createHttpCache, type HttpCache } from '../cache/index.ts';
import { compressHandler } from '../compress/compress.ts';
import { acceptEncodingKey } from '../compress/accept-encoding-key.ts';
import type { UpstreamPool } from '../balancer/upstream-pool.ts';
import { forwardHandler } from '../proxy/forward.ts';
import { staticHandler } from '../static/serve-static.ts';
import { expand } from './captures.ts';

export interface TargetDeps {
  pool(name: string): UpstreamPool;
  appPool(name: string): UpstreamPool;
  /** The handler of an app run in this process (`mode: 'in-process'`); null for worker apps. */
  inProcessApp?(name: string, stripPrefix: boolean): Handler | null;
  /** The route's cache, kept across reloads by the stack; a fresh one when absent. */
  cache?(route: ResolvedRoute & { cache: ResolvedCache }): HttpCache;
}

/** One stage of a route's chain, for `portico middleware` and `portico routes`. */
export interface StageInfo {
  name: string;
  describe: string;
}

export interface BuiltTarget {
  handler: Handler;
  stages: StageInfo[];
}

export function buildTarget(route: ResolvedRoute, deps: TargetDeps): BuiltTarget {
  const built = baseTarget(route, deps);
  if (route.cache === undefined) return built;
  const settings = route.cache;
  // The cache sits in front of the target: a hit never reaches the proxy, static files or the app.
  const cache = deps.cache?.({ ...route, cache: settings }) ?? createHttpCache(settings);
  const describe = `RFC 9111 shared cache (${settings.store}, ${settings.maxBytes} B, objects ≤ ${settings.maxObjectBytes} B)`;
  if (route.compress !== null) {
    // Compression below the cache: each coding is stored once and hits are never compressed again;
    // the key layer folds Accept-Encoding to the coding chosen, so at most 4 variants per URL
    // (src/compress/accept-encoding-key.ts). The stack does not add its outer compress stage here.
    return {
      handler: acceptEncodingKey(cache.wrap(compressHandler(built.handler, route.compress), { flightField: 'accept-encoding' })),
      stages: [
        { name: 'cache', describe: `${describe}, a variant per coding (br / zstd / gzip / identity)` },
        { name: 'compress', describe: `br/zstd/gzip by Accept-Encoding, ≥ ${route.compress.minSize} B, stored compressed` },
        ...built.stages,
      ],
    };
  }
  return {
    handler: cache.wrap(built.handler),
    stages: [{ name: 'cache', describe }, ...built.stages],
  };
}

function baseTarget(route: ResolvedRoute, deps: TargetDeps): BuiltTarget {
  switch (route.kind) {
    case 'upstream':
      return {
        handler: forwardHandler({ pool: deps.pool(route.upstream), stripPrefix: route.stripPrefix }),
        stages: [{ name: 'proxy', describe: `forward to pool "${route.upstream}"${route.stripPrefix ? ` (strip ${route.path})` : ''}` }],
      };
    case 'app': {
      const local = deps.inProcessApp?.(route.app, route.stripPrefix) ?? null;
      if (local !== null) {
        return { handler: local, stages: [{ name: 'app', describe: `"${route.app}" called in this process (mode 'in-process')` }] };
      }
      return {
        handler: forwardHandler({ pool: deps.appPool(route.app), stripPrefix: route.stripPrefix }),
        stages: [
          { name: 'proxy', describe: `forward to app "${route.app}" workers over unix sockets` },
          { name: 'app', describe: `app server worker running "${route.app}"` },
        ],
      };
    }
    case 'static':
      return {
        handler: staticHandler({ ...route.static, stripPrefix: route.stripPrefix }),
        stages: [{ name: 'static', describe: `files from ${route.static.root}` }],
      };
    case 'redirect': {
      const { to, status } = route.redirect;
      return {
        handler: (req, ctx) => ({ status, headers: { location: expand(to, ctx.route?.captures ?? null).replace('$request_uri', req.target), 'content-length': '0' }, body: null }),
        stages: [{ name: 'redirect', describe: `${status} to ${to}` }],
      };
    }
    case 'respond': {
      const { status, body, headers } = route.respond;
      const h = { 'content-type': 'text/plain; charset=utf-8', ...lower(headers) };
      // Encoded once: a 10 KiB string body cost ~10 µs per request to encode and collect.
      const bytes = Buffer.from(body);
      // Each response gets its own headers object: the edge adds per-request fields to it.
      return {
        handler: () => ({ status, headers: { ...h }, body: bytes }),
        stages: [{ name: 'respond', describe: `fixed ${status} response` }],
      };
    }
  }
}

function lower(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in h) out[k.toLowerCase()] = h[k];
  return out;
}

