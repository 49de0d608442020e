// The zod schema of `portico.config.ts`: the source of truth for what a config may contain.
// It checks each part on its own (types, ranges, one target per route); checks across parts
// (does this pool exist? is this port taken?) and on the file system live in checks.ts and files.ts.
import { unknownVariables } from '../observability/access-log.ts';
import { z } from 'zod';
import { suggest } from './suggest.ts';
import { BYTE_SIZE_EXPECTED, parseByteSize } from './byte-size.ts';
import { cacheSchema } from './cache-schema.ts';
import { checkUpstreamTransport, discoverySchema, healthCheckSchema, passiveSchema, policySchema, queueSchema, ratioSchema, retriesSchema, upstreamTlsSchema } from './pool-schema.ts';
import {
  cidr, duration, headers, hostName, hostPatterns, isLoopback, isPlainObject, leaf, listenHost, name, nonEmpty, oneLine, port,
  positiveInt, redirectTo, routePath, serverUrl, strictObject, workers,
} from './fields.ts';

const certsTls = strictObject({ certs: z.array(strictObject({ cert: nonEmpty, key: nonEmpty })).min(1, { error: 'expected at least one { cert, key } pair' }) });
const acmeTls = strictObject({ acme: strictObject({
      directory: z.url({ protocol: /^https$/, error: 'expected the https URL of an ACME directory' }),
      email: z.email(),
      hosts: z.array(hostName).min(1).optional(),
      storage: nonEmpty.optional(),
      // Days are this field's natural unit and past the 24.8-day timer cap of `duration`.
      renewBefore: z.union([z.string().regex(/^\d+d$/, { error: 'expected days like "30d" or a duration' }).transform((v) => Number(v.slice(0, -1)) * 86_400_000), duration]).optional(),
      // RFC 8555 §8.3 on the cleartext listeners, or RFC 8737 in the TLS handshake of the https ones.
      challenge: z.enum(['http-01', 'tls-alpn-01']).optional(),
      caCert: nonEmpty.optional(),
      redis: strictObject({ url: z.url({ protocol: /^rediss?$/ }) }).optional(),
    }) });

/**
 * `'dev'`, `{ certs }` or `{ acme }`, picked by shape first so an error names the field inside the
 * chosen form (a plain union reports only "Invalid input" on `tls`).
 */
const tlsForms = z.union([z.literal('dev'), certsTls, acmeTls]);
const tlsForm = (v: unknown) => (v === 'dev' ? tlsForms : isPlainObject(v) && 'acme' in v ? acmeTls : isPlainObject(v) && 'certs' in v ? certsTls : tlsForms);
const tlsSchema = z.unknown()
  .superRefine((v, ctx) => {
    const r = tlsForm(v).safeParse(v);
    if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ ...issue } as never);
  })
  .transform((v) => tlsForm(v).parse(v) as z.output<typeof tlsForms>);

export const listenerSchema = strictObject({
  name: nonEmpty.optional(),
  protocol: z.literal('http').optional(),
  host: listenHost.optional(),
  port,
  tls: tlsSchema.optional(),
  redirectToHttps: z.union([z.literal(true), strictObject({ port: port.optional(), hosts: hostPatterns.optional() })]).optional(),
  hsts: z.union([z.literal(true), strictObject({
    maxAge: z.int().min(0).optional(),
    includeSubDomains: z.boolean().optional(),
    preload: z.boolean().optional(),
    hosts: hostPatterns.optional(),
  })]).optional(),
  canonicalHosts: z.record(hostName, hostName).optional(),
  proxyProtocol: z.boolean().optional(),
  engine: z.enum(['node', 'portico']).optional(),
  reusePort: z.boolean().optional(),
  limits: strictObject({
    headersTimeout: duration.optional(),
    requestTimeout: duration.optional(),
    keepAliveTimeout: duration.optional(),
    maxHeaderSize: z.int().min(1024).max(1024 * 1024).optional(),
    maxHeaderCount: positiveInt.optional(),
    maxUrlLength: z.int().min(256).optional(),
    maxConnections: z.int().min(0).optional(),
    maxConnectionsPerIp: z.int().min(0).optional(),
    maxConcurrentStreams: positiveInt.optional(),
  })
    // node:http refuses a head deadline past the whole-request one.
    .refine((l) => !l.requestTimeout || l.headersTimeout === undefined || l.headersTimeout <= l.requestTimeout, { path: ['headersTimeout'], error: 'headersTimeout must not exceed requestTimeout' })
    .optional(),
})
  // RFC 6797 §7.2: a UA ignores HSTS over cleartext, so on such a listener it is a mistake.
  .refine((l) => l.hsts === undefined || l.tls !== undefined, { path: ['hsts'], error: 'hsts is sent on https responses only: this listener has no "tls"' })
  .refine((l) => l.redirectToHttps === undefined || l.tls === undefined, { path: ['redirectToHttps'], error: 'this listener already serves https: put redirectToHttps on the cleartext listener' })
  // hstspreload.org's submission rules: browsers preload only what also covers subdomains for a year.
  .refine((l) => typeof l.hsts !== 'object' || l.hsts.preload !== true || (l.hsts.includeSubDomains === true && (l.hsts.maxAge ?? 31_536_000) >= 31_536_000), {
    path: ['hsts', 'preload'],
    error: 'preload requires includeSubDomains: true and maxAge of at least 31536000 (one year)',
  });

export const adminSchema = strictObject({
  socket: nonEmpty.optional(),
  host: listenHost.optional(),
  port: port.optional(),
  token: oneLine.optional(),
})
  .refine((a) => a.socket === undefined || (a.host === undefined && a.port === undefined), {
    path: ['socket'],
    error: 'admin listens on either a unix socket or host/port: remove "socket" or "host"/"port"',
  })
  .refine((a) => a.host === undefined || a.port !== undefined, {
    path: ['port'],
    error: (issue) => `missing: expected a port for admin host ${JSON.stringify((issue.input as { host: string }).host)}`,
  })
  // Anyone who can reach the admin API can drain and reload the stack: off loopback it needs a token.
  .refine((a) => a.host === undefined || isLoopback(a.host) || a.token !== undefined, {
    path: ['token'],
    error: (issue) => `missing: admin on non-loopback host ${JSON.stringify((issue.input as { host: string }).host)} requires a token`,
  });

export const serverSchema = strictObject({
  url: serverUrl,
  weight: positiveInt.default(1),
  maxConnections: positiveInt.optional(),
  backup: z.boolean().default(false),
});

export const poolSchema = strictObject({
  // Empty only with SRV discovery, whose answer is the server list (checked below).
  servers: z.array(serverSchema).default([]),
  connections: positiveInt.default(64),
  connectTimeout: duration.default(5_000),
  timeout: duration.default(60_000),
  bodyTimeout: duration.optional(),
  keepAliveTimeout: duration.default(4_000),
  // The HTTP client for http:// and unix: servers (https:// ones always use undici).
  client: leaf<'portico' | 'undici'>('"portico" or "undici"', (v) => v === 'portico' || v === 'undici').default('portico'),
  policy: policySchema.optional(),
  queue: queueSchema.default({ maxLength: 1000, timeout: 120_000 }),
  retries: retriesSchema.default(1),
  retryBudget: ratioSchema.default(0.2),
  retryAfter: duration.default(10_000),
  maintenancePage: nonEmpty.optional(),
  healthCheck: healthCheckSchema.optional(),
  discovery: discoverySchema.optional(),
  passive: passiveSchema.optional(),
  slowStart: duration.default(0),
  tls: upstreamTlsSchema.optional(),
  http2: z.boolean().default(false),
}).superRefine((p, ctx) => {
  checkUpstreamTransport(p, ctx);
  const srv = p.discovery?.type === 'dns-srv';
  if (!srv && p.servers.length === 0) ctx.addIssue({ code: 'custom', path: ['servers'], message: 'a pool needs at least one server, got an empty list' });
  if (srv && p.servers.length > 0) ctx.addIssue({ code: 'custom', path: ['servers'], message: 'with discovery "dns-srv" the servers are the SRV answer; remove "servers"' });
});

// Recycling limits (0 = off): counts and byte sizes, so whole numbers.
const nonNegativeInt = leaf<number>('an integer ≥ 0 (0 = off)', (v) => Number.isSafeInteger(v) && (v as number) >= 0);

export const appSchema = strictObject({
  module: nonEmpty,
  // One worker unless asked: several apps each taking every core would oversubscribe the machine.
  workers: workers.default(1),
  concurrency: positiveInt.default(64),
  workerTimeout: duration.default(30_000),
  // Defaults to the stack's shutdownTimeout (resolve.ts).
  gracefulTimeout: duration.optional(),
  maxRequests: nonNegativeInt.default(0),
  maxRequestsJitter: nonNegativeInt.default(0),
  maxMemory: nonNegativeInt.default(0),
  mode: z.enum(['workers', 'in-process']).default('workers'),
}).superRefine((a, ctx) => {
  // In-process there is one copy of the app, in the data-plane process: asking for more would be silently ignored.
  if (a.mode === 'in-process' && a.workers !== 1) ctx.addIssue({ code: 'custom', path: ['workers'], message: `mode 'in-process' runs the app in the data-plane process itself: remove "workers" or use mode 'workers'` });
});

// The string shorthands (`static: './public'`, `redirect: '/new'`) become the object form here, so
// everything downstream (and every error path, e.g. `routes[1].static.root`) sees one shape.
const staticSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { root: v } : v),
  strictObject({
    root: nonEmpty,
    index: nonEmpty.optional(),
    cacheControl: z.union([oneLine, z.array(strictObject({ match: nonEmpty, value: oneLine }))]).optional(),
    fallback: z.string().startsWith('/', { error: 'expected a path below the root starting with "/"' }).optional(),
    precompressed: z.boolean().optional(),
    followSymlinks: z.boolean().optional(),
  }),
);

const redirectSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { to: v } : v),
  strictObject({
    to: redirectTo,
    status: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]).optional(),
  }),
);

const respondSchema = strictObject({
  status: z.int().min(200).max(599).optional(),
  body: z.string().optional(),
  headers: headers.optional(),
}).refine((r) => !(r.status === 204 || r.status === 304) || !r.body, {
  path: ['body'],
  // RFC 9110 §15.3.5, §15.4.5: these responses end at the header section.
  error: (issue) => `a ${(issue.input as { status: number }).status} response has no body; remove "body"`,
});

export const ROUTE_TARGETS = ['upstream', 'app', 'static', 'redirect', 'respond'] as const;
export type RouteTarget = (typeof ROUTE_TARGETS)[number];

// Routing rules beyond host + prefix (nginx `location =`, `location ~`, `if ($http_…)`), and
// per-route request/response rewriting. Regexes are compiled here, so a bad one is a config error.
const regexSource = z.string().min(1).superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
  }
});
const tokenName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'expected a header field name (RFC 9110 §5.1)' });
const matchSchema = strictObject({
  methods: z.array(z.string().regex(/^[A-Z]+$/, { error: 'expected an upper-case method such as GET' })).min(1).optional(),
  /** A value must equal one of the strings; `true` = the field is present, `false` = absent. */
  headers: z.record(tokenName, z.union([z.string(), z.array(z.string()).min(1), z.boolean()])).optional(),
  query: z.record(z.string().min(1), z.union([z.string(), z.array(z.string()).min(1), z.boolean()])).optional(),
  clientIp: z.array(cidr).min(1).optional(),
});
const rewriteSchema = strictObject({ from: regexSource, to: z.string().startsWith('/', { error: 'expected a path starting with "/"' }) });
const headerRulesSchema = strictObject({
  set: z.record(tokenName, oneLine).optional(),
  add: z.record(tokenName, oneLine).optional(),
  remove: z.array(tokenName).optional(),
});

const routeShape = {
  name: nonEmpty.optional(),
  host: hostPatterns.optional(),
  path: routePath.optional(),
  exactPath: routePath.optional(),
  pathRegex: regexSource.optional(),
  match: matchSchema.optional(),
  rewrite: rewriteSchema.optional(),
  requestHeaders: headerRulesSchema.optional(),
  responseHeaders: headerRulesSchema.optional(),
  hostHeader: oneLine.optional(),
  rewriteLocation: z.boolean().optional(),
  websocket: z.union([z.literal(false), strictObject({ idleTimeout: duration.optional() })]).optional(),
  errorPages: z.record(z.string().regex(/^[45]\d\d$/, { error: 'expected a 4xx or 5xx status code' }), nonEmpty).optional(),
  stripPrefix: z.boolean().default(false),
  // Request body cap: bytes or "10MiB" (nginx's client_max_body_size).
  maxBodySize: leaf<number | string>(BYTE_SIZE_EXPECTED, (v) => parseByteSize(v) !== undefined).transform((v) => parseByteSize(v) as number).optional(),
  bufferRequest: z.union([z.boolean(), strictObject({
    maxSize: leaf<number | string>(BYTE_SIZE_EXPECTED, (v) => parseByteSize(v) !== undefined).transform((v) => parseByteSize(v) as number),
  })]).optional(),
  compress: z.union([z.boolean(), strictObject({
    minSize: z.int().min(0).optional(),
    types: z.array(nonEmpty).min(1).optional(),
    gzipLevel: z.int().min(1).max(9).optional(),
    brotliQuality: z.int().min(0).max(11).optional(),
  })]).optional(),
  cache: cacheSchema,
  upstream: nonEmpty.optional(),
  app: nonEmpty.optional(),
  static: staticSchema.optional(),
  redirect: redirectSchema.optional(),
  respond: respondSchema.optional(),
};

const targetsOf = (route: Record<string, unknown>): RouteTarget[] => ROUTE_TARGETS.filter((t) => route[t] !== undefined);

/** A key misspelling a target (`upstreem`) is already reported; a "no target" error would only repeat it. */
const misspelledTarget = (route: Record<string, unknown>): boolean =>
  Object.keys(route).some((key) => !(key in routeShape) && suggest(key, ROUTE_TARGETS) !== undefined);

export const routeSchema = strictObject(routeShape).refine(
  (route) => targetsOf(route).length === 1 || (targetsOf(route).length === 0 && misspelledTarget(route)),
  {
    // Checked even when other fields are wrong, so every mistake in a route shows at once.
    when: (payload) => isPlainObject(payload.value),
    error: (issue) => {
      const route = issue.input as Record<string, unknown>;
      const label = typeof route.name === 'string' ? route.name : typeof route.path === 'string' ? route.path : '/';
      const found = targetsOf(route);
      const what = found.length === 0 ? 'no target' : `${found.length} targets (${found.join(', ')})`;
      return `route ${JSON.stringify(label)} has ${what}; expected exactly one of ${ROUTE_TARGETS.join(', ')}`;
    },
  },
).refine(
  (route) => [route.path, route.exactPath, route.pathRegex].filter((p) => p !== undefined).length <= 1,
  { path: ['path'], when: (payload) => isPlainObject(payload.value), error: 'give one of path (prefix), exactPath or pathRegex, not several' },
);

export const trustedProxiesSchema = z.array(cidr).default(['127.0.0.0/8', '::1/128']);
export const shutdownTimeoutSchema = duration.default(10_000);
/** Data-plane processes (`portico up`), like nginx's worker_processes: 1 by default. */
export const processesSchema = workers.default(1);
// Variables are checked here, once, so a typo is a config error rather than a crash per request.
export const accessLogSchema = z.union([z.literal(false), strictObject({
  format: z.string().min(1).superRefine((format, ctx) => {
    const bad = unknownVariables(format);
    if (bad.length > 0) ctx.addIssue({ code: 'custom', message: `unknown variable${bad.length > 1 ? 's' : ''} ${bad.map((b) => '$' + b).join(', ')} (known: nginx's $remote_addr, $time_local, $request, $status, $body_bytes_sent, $http_*, $upstream_addr, $request_time, $request_id, …)` });
  }).optional(),
  path: nonEmpty.optional(),
})]).optional();

/** The whole config. validateConfig() applies its parts one by one, to keep what parsed for later checks. */
export const configSchema = strictObject({
  listeners: z.array(listenerSchema).min(1).optional(),
  admin: adminSchema.optional(),
  pools: z.record(name, poolSchema).optional(),
  apps: z.record(name, appSchema).optional(),
  routes: z.array(routeSchema),
  trustedProxies: trustedProxiesSchema,
  shutdownTimeout: shutdownTimeoutSchema,
  runtimeDir: nonEmpty.optional(),
  accessLog: accessLogSchema,
  processes: processesSchema,
});

export type ParsedListener = z.output<typeof listenerSchema>;
export type ParsedAdmin = z.output<typeof adminSchema>;
export type ParsedPool = z.output<typeof poolSchema>;
export type ParsedApp = z.output<typeof appSchema>;
export type ParsedRoute = z.output<typeof routeSchema>;
