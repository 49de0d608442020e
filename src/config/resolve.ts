// Parsed parts → ResolvedConfig: defaults that depend on other fields or on where the config lives
// (listener names, absolute paths, the admin socket in runtimeDir) and one shape per route target.
// Only called when validation found no issue, so every part is present.
import { DEFAULT_COMPRESS } from '../compress/compress.ts';
import { DEFAULT_LIMITS } from '../edge/limits.ts';
import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseServerUrl } from './fields.ts';
import { resolveCache } from './cache-schema.ts';
import { resolveDiscovery, resolveHealthCheck, resolvePassive, resolvePolicy, resolveUpstreamTls } from './pool-schema.ts';
import type { Item, ParsedParts } from './parse.ts';
import type { ParsedListener, ParsedPool, ParsedRoute } from './schema.ts';
import type { AcmeConfig } from './types.ts';
import type {
  ResolvedAdmin, ResolvedApp, ResolvedConfig, ResolvedListener, ResolvedPool, ResolvedRoute, ResolvedServer, ResolvedTls,
} from './resolved.ts';

export const DEFAULT_LISTENER = { name: 'http', protocol: 'http', host: '127.0.0.1', port: 8080, tls: null, redirectToHttps: null, hsts: null, canonicalHosts: {}, proxyProtocol: false, engine: 'portico', reusePort: false, limits: DEFAULT_LIMITS } as const;
export const DEFAULT_LISTEN_HOST = '127.0.0.1';

export function runtimeDirOf(runtimeDir: string | undefined, baseDir: string): string {
  return resolve(baseDir, runtimeDir ?? '.portico');
}

export function adminSocketOf(socket: string | undefined, runtimeDir: string, baseDir: string): string {
  return socket === undefined ? join(runtimeDir, 'admin.sock') : resolve(baseDir, socket);
}

/** Unnamed listeners are `http`, `http-2`, `http-3` …, skipping names the user took. */
export function listenerNames(listeners: readonly Item<ParsedListener>[]): string[] {
  const taken = new Set(listeners.map(({ value }) => value.name).filter((n) => n !== undefined));
  let next = 1;
  const fresh = (): string => {
    for (;;) {
      const candidate = next === 1 ? 'http' : `http-${next}`;
      next++;
      if (!taken.has(candidate)) return candidate;
    }
  };
  return listeners.map(({ value }) => value.name ?? fresh());
}

/** "/api/" and "/api" are the same prefix (matching is on segment boundaries). */
export function normalisePath(path: string | undefined): string {
  if (path === undefined || path === '/') return '/';
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

/** Host names compare case-insensitively (RFC 9110 §4.2.3). */
export function hostsOf(host: string | string[] | undefined): string[] {
  if (host === undefined) return [];
  return [...new Set((Array.isArray(host) ? host : [host]).map((h) => h.toLowerCase()))];
}

function resolveServerUrl(url: string, baseDir: string): ResolvedServer['address'] & { url: string } {
  const address = parseServerUrl(url);
  if (address === undefined) throw new Error(`unvalidated server url ${url}`);
  if (address.kind === 'unix') {
    const path = isAbsolute(address.path) ? address.path : resolve(baseDir, address.path);
    return { kind: 'unix', path, url: `unix:${path}` };
  }
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return { ...address, url: `${address.secure ? 'https' : 'http'}://${host}:${address.port}` };
}

function resolvePool(name: string, pool: ParsedPool, baseDir: string): ResolvedPool {
  const servers = pool.servers.map((server): ResolvedServer => {
    const { url, ...address } = resolveServerUrl(server.url, baseDir);
    return { url, address, weight: server.weight, maxConnections: server.maxConnections ?? 0, backup: server.backup };
  });
  return {
    name, servers, connections: pool.connections, connectTimeout: pool.connectTimeout, timeout: pool.timeout,
    bodyTimeout: pool.bodyTimeout ?? pool.timeout, keepAliveTimeout: Math.max(pool.keepAliveTimeout, 1), client: pool.client,
    policy: resolvePolicy(pool.policy), queue: pool.queue, retries: pool.retries, retryBudget: pool.retryBudget,
    retryAfter: Math.ceil(pool.retryAfter / 1000),
    maintenancePage: pool.maintenancePage === undefined ? null : resolve(baseDir, pool.maintenancePage),
    healthCheck: resolveHealthCheck(pool.healthCheck),
    discovery: resolveDiscovery(pool.discovery),
    passive: resolvePassive(pool.passive),
    slowStart: pool.slowStart,
    tls: resolveUpstreamTls(pool.tls, baseDir),
    http2: pool.http2,
  };
}

function routeName(route: ParsedRoute, hosts: string[], path: string): string {
  const where = `${hosts.join(',')}${path}`;
  if (route.upstream !== undefined) return `${where} → pool ${route.upstream}`;
  if (route.app !== undefined) return `${where} → app ${route.app}`;
  if (route.static !== undefined) return `${where} → static ${route.static.root}`;
  if (route.redirect !== undefined) return `${where} → redirect ${route.redirect.status ?? 301} ${route.redirect.to}`;
  return `${where} → respond ${route.respond?.status ?? 200}`;
}

function resolveRoute(index: number, route: ParsedRoute, baseDir: string): ResolvedRoute {
  const hosts = hostsOf(route.host);
  const pathKind = route.exactPath !== undefined ? 'exact' : route.pathRegex !== undefined ? 'regex' : 'prefix';
  const path = pathKind === 'exact' ? route.exactPath! : pathKind === 'regex' ? route.pathRegex! : normalisePath(route.path);
  const rules = (r: typeof route.requestHeaders) => (r === undefined ? null : { set: lowerKeys(r.set), add: lowerKeys(r.add), remove: (r.remove ?? []).map((n) => n.toLowerCase()) });
  const errorPages: Record<string, string> = {};
  for (const [status, file] of Object.entries(route.errorPages ?? {})) errorPages[status] = resolve(baseDir, file);
  const rules2 = {
    pathKind,
    match: route.match === undefined ? null : { ...route.match, ...(route.match.headers ? { headers: lowerKeys(route.match.headers) } : {}) },
    rewrite: route.rewrite ?? null,
    requestHeaders: rules(route.requestHeaders),
    responseHeaders: rules(route.responseHeaders),
    hostHeader: route.hostHeader ?? null,
    rewriteLocation: route.rewriteLocation ?? true,
    websocket: route.websocket === false || (route.upstream === undefined && route.app === undefined) ? null : { idleTimeout: route.websocket?.idleTimeout ?? 300_000 },
    errorPages,
  } as const;
  const compress = route.compress === undefined || route.compress === false ? null : { ...DEFAULT_COMPRESS, ...(route.compress === true ? {} : route.compress) };
  const cache = resolveCache(route.cache);
  const base = { index, name: route.name ?? routeName(route, hosts, path), hosts, path, stripPrefix: route.stripPrefix, ...rules2, compress, ...(cache === undefined ? {} : { cache }), ...(route.maxBodySize === undefined ? {} : { maxBodySize: route.maxBodySize }),
    bufferRequest: route.bufferRequest === undefined || route.bufferRequest === false ? null : route.bufferRequest === true ? route.maxBodySize ?? 8 * 1024 * 1024 : route.bufferRequest.maxSize };
  if (route.upstream !== undefined) return { ...base, kind: 'upstream', upstream: route.upstream };
  if (route.app !== undefined) return { ...base, kind: 'app', app: route.app };
  if (route.static !== undefined) {
    const { root, index: file, cacheControl, fallback, precompressed, followSymlinks } = route.static;
    const target = {
      root: resolve(baseDir, root),
      index: file ?? 'index.html',
      precompressed: precompressed ?? true,
      followSymlinks: followSymlinks ?? false,
      ...(cacheControl === undefined ? {} : { cacheControl }),
      ...(fallback === undefined ? {} : { fallback }),
    };
    return { ...base, kind: 'static', static: target };
  }
  if (route.redirect !== undefined) return { ...base, kind: 'redirect', redirect: { to: route.redirect.to, status: route.redirect.status ?? 301 } };
  const respond = route.respond ?? {};
  return { ...base, kind: 'respond', respond: { status: respond.status ?? 200, body: respond.body ?? '', headers: { ...respond.headers } } };
}

function resolveTls(tls: ParsedListener['tls'], baseDir: string): ResolvedTls | null {
  if (tls === undefined) return null;
  if (tls === 'dev') return { kind: 'dev' };
  const acme = (tls as { acme?: AcmeConfig & { renewBefore?: number } }).acme;
  if (acme !== undefined) {
    const a = acme;
    return {
      kind: 'acme',
      acme: {
        directory: a.directory, email: a.email, hosts: a.hosts?.map((h) => h.toLowerCase()) ?? null,
        storage: a.storage === undefined ? null : resolve(baseDir, a.storage), renewBefore: a.renewBefore ?? 30 * 86_400_000,
        challenge: a.challenge ?? 'http-01', caCert: a.caCert === undefined ? null : resolve(baseDir, a.caCert), redis: a.redis ?? null,
      },
    };
  }
  return { kind: 'files', certs: (tls as { certs: { cert: string; key: string }[] }).certs.map((c) => ({ cert: resolve(baseDir, c.cert), key: resolve(baseDir, c.key) })) };
}

/** One year: the max-age hstspreload.org asks for and what most deployments use (RFC 6797 §6.1.1). */
const HSTS_MAX_AGE = 31_536_000;

function resolveHostPolicy(l: Partial<ParsedListener>): Pick<ResolvedListener, 'redirectToHttps' | 'hsts' | 'canonicalHosts'> {
  const r = l.redirectToHttps === true ? {} : l.redirectToHttps;
  const h = l.hsts === true ? {} : l.hsts;
  return {
    redirectToHttps: r === undefined ? null : { port: r.port ?? 443, hosts: hostsOf(r.hosts) },
    hsts: h === undefined ? null : { maxAge: h.maxAge ?? HSTS_MAX_AGE, includeSubDomains: h.includeSubDomains ?? false, preload: h.preload ?? false, hosts: hostsOf(h.hosts) },
    canonicalHosts: Object.fromEntries(Object.entries(l.canonicalHosts ?? {}).map(([from, to]) => [from.toLowerCase(), to.toLowerCase()])),
  };
}

function resolveAdmin(parts: ParsedParts, runtimeDir: string, baseDir: string): ResolvedAdmin {
  const admin = parts.admin ?? {};
  const token = admin.token === undefined ? {} : { token: admin.token };
  if (admin.port !== undefined) return { host: admin.host ?? DEFAULT_LISTEN_HOST, port: admin.port, ...token };
  return { socket: adminSocketOf(admin.socket, runtimeDir, baseDir), ...token };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export function processCount(processes: number | 'auto' | undefined): number {
  return processes === 'auto' ? availableParallelism() : processes ?? 1;
}

/** Parts are partial only where an issue was raised, and resolveConfig() runs only when there was none. */
const whole = <T>(value: Partial<T>): T => value as T;

export function resolveConfig(parts: ParsedParts, baseDir: string): ResolvedConfig {
  const runtimeDir = runtimeDirOf(parts.runtimeDir, baseDir);
  const given = parts.listeners ?? [];
  const names = listenerNames(given);
  const listeners: ResolvedListener[] = parts.listeners === undefined
    ? [{ ...DEFAULT_LISTENER }]
    : given.map(({ value }, i) => ({ name: names[i], protocol: 'http', host: value.host ?? DEFAULT_LISTEN_HOST, port: whole(value).port, tls: resolveTls(value.tls, baseDir), ...resolveHostPolicy(value), proxyProtocol: value.proxyProtocol ?? false, engine: value.engine ?? 'portico', reusePort: value.reusePort ?? false, limits: { ...DEFAULT_LIMITS, ...value.limits } }));
  const pools: Record<string, ResolvedPool> = {};
  for (const [name, pool] of parts.pools.parsed) pools[name] = resolvePool(name, whole(pool), baseDir);
  const apps: Record<string, ResolvedApp> = {};
  for (const [name, partial] of parts.apps.parsed) {
    const app = whole(partial);
    const workers = app.workers === 'auto' ? availableParallelism() : app.workers;
    apps[name] = {
      name, module: resolve(baseDir, app.module), workers, concurrency: app.concurrency,
      workerTimeout: app.workerTimeout, gracefulTimeout: app.gracefulTimeout ?? parts.shutdownTimeout ?? 10_000,
      maxRequests: app.maxRequests, maxRequestsJitter: app.maxRequestsJitter, maxMemory: app.maxMemory, mode: app.mode,
    };
  }
  return deepFreeze({
    baseDir,
    listeners,
    admin: resolveAdmin(parts, runtimeDir, baseDir),
    pools,
    apps,
    routes: parts.routes.map(({ index, value }) => resolveRoute(index, whole(value), baseDir)),
    trustedProxies: [...(parts.trustedProxies ?? [])],
    shutdownTimeout: parts.shutdownTimeout ?? 10_000,
    runtimeDir,
    processes: processCount(parts.processes),
    accessLog: parts.accessLog === false ? null : {
      format: parts.accessLog?.format ?? 'combined',
      path: parts.accessLog?.path === undefined || parts.accessLog.path === '-' ? null : resolve(baseDir, parts.accessLog.path),
    },
  });
}

function lowerKeys<V>(record: Record<string, V> | undefined): Record<string, V> {
  const out: Record<string, V> = {};
  for (const k in record ?? {}) out[k.toLowerCase()] = record![k];
  return out;
}
