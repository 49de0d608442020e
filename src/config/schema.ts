// The zod schema of `portico.config.ts`: the source of truth for what a config may contain.
// It checks each part on its own (types, ranges, one target per route); checks across parts
// (does this pool exist? is this port taken?) and on the file system live in checks.ts and files.ts.
import { z } from 'zod';
import { suggest } from './suggest.ts';
import {
  cidr, duration, headers, hostPatterns, isLoopback, isPlainObject, listenHost, name, nonEmpty, oneLine, port,
  positiveInt, redirectTo, routePath, serverUrl, strictObject, workers,
} from './fields.ts';

export const listenerSchema = strictObject({
  name: nonEmpty.optional(),
  protocol: z.literal('http').optional(),
  host: listenHost.optional(),
  port,
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
});

export const poolSchema = strictObject({
  servers: z.array(serverSchema).min(1, { error: 'a pool needs at least one server, got an empty list' }),
  connections: positiveInt.default(64),
  connectTimeout: duration.default(5_000),
  timeout: duration.default(60_000),
});

export const appSchema = strictObject({
  module: nonEmpty,
  // One worker unless asked: several apps each taking every core would oversubscribe the machine.
  workers: workers.default(1),
  concurrency: positiveInt.default(64),
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

const routeShape = {
  name: nonEmpty.optional(),
  host: hostPatterns.optional(),
  path: routePath.optional(),
  stripPrefix: z.boolean().default(false),
  compress: z.union([z.boolean(), strictObject({
    minSize: z.int().min(0).optional(),
    types: z.array(nonEmpty).min(1).optional(),
    gzipLevel: z.int().min(1).max(9).optional(),
    brotliQuality: z.int().min(0).max(11).optional(),
  })]).optional(),
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
);

export const trustedProxiesSchema = z.array(cidr).default(['127.0.0.0/8', '::1/128']);
export const shutdownTimeoutSchema = duration.default(10_000);

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
});

export type ParsedListener = z.output<typeof listenerSchema>;
export type ParsedAdmin = z.output<typeof adminSchema>;
export type ParsedPool = z.output<typeof poolSchema>;
export type ParsedApp = z.output<typeof appSchema>;
export type ParsedRoute = z.output<typeof routeSchema>;
