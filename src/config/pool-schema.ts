// The balancer's part of a pool's config: selection policy, queue, retries, the all-down answer
// and active health checks. Kept apart from schema.ts so the pool fields read as one block.
import { z } from 'zod';
import { duration, isHostname, leaf, nonEmpty, positiveInt, strictObject } from './fields.ts';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { ResolvedDiscovery, ResolvedHealthCheck, ResolvedPassive, ResolvedPolicy, ResolvedUpstreamTls } from './resolved.ts';

export const POLICY_NAMES = [
  'round-robin', 'weighted-round-robin', 'least-outstanding', 'power-of-two', 'consistent-hash', 'sticky-cookie', 'first-available',
] as const;
type PolicyName = (typeof POLICY_NAMES)[number];

const isString = (v: unknown): v is string => typeof v === 'string';
// Header and cookie names are tokens (RFC 9110 §5.1, RFC 6265 §4.1.1).
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HASH_KEY = /^(ip|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+|cookie:[!#$%&'*+.^_`|~0-9A-Za-z-]+)$/;

const policyName = leaf<PolicyName>(`one of ${POLICY_NAMES.map((n) => `"${n}"`).join(', ')}`,
  (v) => isString(v) && (POLICY_NAMES as readonly string[]).includes(v));

// The string shorthand (`policy: 'least-outstanding'`) becomes the object form.
export const policySchema = z.preprocess(
  (v) => (typeof v === 'string' ? { name: v } : v),
  strictObject({
    name: policyName,
    key: leaf<string>('"ip", "header:<name>" or "cookie:<name>"', (v) => isString(v) && HASH_KEY.test(v)).optional(),
    cookie: leaf<string>('a cookie name (an RFC 6265 token)', (v) => isString(v) && TOKEN.test(v)).optional(),
  })
    .refine((p) => p.key === undefined || p.name === 'consistent-hash', { path: ['key'], error: '"key" applies only to policy "consistent-hash"' })
    .refine((p) => p.cookie === undefined || p.name === 'sticky-cookie', { path: ['cookie'], error: '"cookie" applies only to policy "sticky-cookie"' }),
);

export const queueSchema = strictObject({
  maxLength: z.custom<number>((v) => Number.isInteger(v) && (v as number) >= 0, { error: 'expected an integer ≥ 0' }).default(1000),
  timeout: duration.default(120_000),
});

const statusRange = leaf<string>('a status or range like "200", "200-399"', (v) => {
  if (!isString(v)) return false;
  const m = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/.exec(v);
  return m !== null && (m[2] === undefined || Number(m[2]) >= Number(m[1]));
});

export const healthCheckSchema = strictObject({
  type: leaf<'http' | 'tcp'>('"http" or "tcp"', (v) => v === 'http' || v === 'tcp').default('http'),
  method: leaf<string>('an HTTP method like "GET" or "HEAD"', (v) => isString(v) && TOKEN.test(v)).default('GET'),
  path: z.string().startsWith('/', { error: 'expected a path starting with "/"' }).default('/'),
  expectStatus: statusRange.default('200-399'),
  /** Substring the response body must contain. */
  body: nonEmpty.optional(),
  interval: duration.default(5_000),
  timeout: duration.default(2_000),
  rise: positiveInt.default(2),
  fall: positiveInt.default(3),
});

/** `ip:port` of a DNS server, e.g. a sidecar resolver or Docker's 127.0.0.11:53. */
const resolverAddress = leaf<string>('a DNS server address "ip:port" like "127.0.0.1:53" or "[::1]:53"', (v) => {
  if (!isString(v)) return false;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(v);
  return m !== null && isIP(m[1] ?? m[2]) !== 0 && Number(m[3]) >= 1 && Number(m[3]) <= 65535;
});

/** An SRV owner name (RFC 2782 §"The format of the SRV RR"): `_service._proto.name`, underscores allowed. */
const SRV_NAME = /^(?=.{1,253}\.?$)_[A-Za-z0-9-]+\._(tcp|udp)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)+\.?$/;

export const discoverySchema = strictObject({
  type: leaf<'dns' | 'dns-srv'>('"dns" or "dns-srv"', (v) => v === 'dns' || v === 'dns-srv'),
  /** The SRV name to look up (dns-srv only). */
  name: leaf<string>('an SRV name like "_http._tcp.web.example"', (v) => isString(v) && SRV_NAME.test(v)).optional(),
  ttl: duration.default(30_000),
  resolver: resolverAddress.optional(),
})
  .refine((d) => d.type !== 'dns-srv' || d.name !== undefined, { path: ['name'], error: 'discovery "dns-srv" needs the SRV "name" to look up, like "_http._tcp.web.example"' })
  .refine((d) => d.type !== 'dns' || d.name === undefined, { path: ['name'], error: '"name" applies only to discovery "dns-srv" (with "dns", the names are the servers\' hosts)' });

export function resolveDiscovery(d: z.output<typeof discoverySchema> | undefined): ResolvedDiscovery | null {
  if (d === undefined) return null;
  // A zero ttl would spin: re-resolve at most every 100 ms.
  const ttl = Math.max(d.ttl, 100);
  const resolver = d.resolver ?? null;
  if (d.type === 'dns-srv') return { type: 'dns-srv', name: d.name!.replace(/\.$/, '').toLowerCase(), ttl, resolver };
  return { type: 'dns', ttl, resolver };
}

export const passiveSchema = strictObject({
  failures: positiveInt.default(5),
  ejectFor: duration.default(30_000),
  maxEjectFor: duration.default(300_000),
});

export function resolvePassive(p: z.output<typeof passiveSchema> | undefined): ResolvedPassive | null {
  if (p === undefined) return null;
  return { failures: p.failures, ejectFor: Math.max(p.ejectFor, 1), maxEjectFor: Math.max(p.maxEjectFor, p.ejectFor, 1) };
}

export const retriesSchema = z.custom<number>((v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 10, { error: 'expected an integer 0–10' });
export const ratioSchema = z.custom<number>((v) => typeof v === 'number' && v >= 0 && v <= 1, { error: 'expected a fraction between 0 and 1' });

export function resolvePolicy(p: z.output<typeof policySchema> | undefined): ResolvedPolicy {
  if (p === undefined) return { name: 'weighted-round-robin' };
  if (p.name === 'consistent-hash') {
    const key = p.key ?? 'ip';
    if (key === 'ip') return { name: p.name, key: { from: 'ip' } };
    const colon = key.indexOf(':');
    const from = key.slice(0, colon) as 'header' | 'cookie';
    // Header names compare case-insensitively (RFC 9110 §5.1); request headers arrive lowercased.
    return { name: p.name, key: { from, name: from === 'header' ? key.slice(colon + 1).toLowerCase() : key.slice(colon + 1) } };
  }
  if (p.name === 'sticky-cookie') return { name: p.name, cookie: p.cookie ?? 'portico_server' };
  return { name: p.name };
}

export function resolveHealthCheck(h: z.output<typeof healthCheckSchema> | undefined): ResolvedHealthCheck | null {
  if (h === undefined) return null;
  const [from, to] = h.expectStatus.split('-').map(Number);
  return {
    type: h.type, method: h.method.toUpperCase(), path: h.path, status: [from, to ?? from], body: h.body ?? null,
    interval: Math.max(h.interval, 10), timeout: h.timeout, rise: h.rise, fall: h.fall,
  };
}

const isPath = (v: unknown): v is string => isString(v) && v.trim() !== '';
const pemFiles = leaf<string | string[]>('a PEM file path or a non-empty list of them',
  (v) => isPath(v) || (Array.isArray(v) && v.length > 0 && v.every(isPath)));

/** TLS to a pool's `https://` servers (client side; the files are checked in files.ts). */
export const upstreamTlsSchema = strictObject({
  /** CA certificates to trust for the servers' certificates, instead of the system store. */
  ca: pemFiles.optional(),
  // RFC 6066 §3: SNI carries a host name, never an IP literal.
  servername: leaf<string>('a host name like "api.internal" (SNI cannot carry an IP address, RFC 6066 §3)', (v) => isString(v) && isIP(v) === 0 && isHostname(v)).optional(),
  rejectUnauthorized: z.boolean().default(true),
  cert: nonEmpty.optional(),
  key: nonEmpty.optional(),
})
  .refine((t) => t.cert === undefined || t.key !== undefined, { path: ['key'], error: 'missing: a client certificate ("cert") needs its private key ("key")' })
  .refine((t) => t.key === undefined || t.cert !== undefined, { path: ['cert'], error: 'missing: a client key ("key") needs its certificate ("cert")' });

export function resolveUpstreamTls(t: z.output<typeof upstreamTlsSchema> | undefined, baseDir: string): ResolvedUpstreamTls | null {
  if (t === undefined) return null;
  const ca = t.ca === undefined ? [] : Array.isArray(t.ca) ? t.ca : [t.ca];
  const file = (f: string | undefined) => (f === undefined ? null : resolve(baseDir, f));
  return { ca: ca.map((f) => resolve(baseDir, f)), servername: t.servername?.toLowerCase() ?? null, rejectUnauthorized: t.rejectUnauthorized, cert: file(t.cert), key: file(t.key) };
}

/**
 * `tls` and `http2` only mean something for `https://` servers. h2 to an upstream is negotiated by
 * ALPN in the TLS handshake (RFC 9113 §3.2); cleartext h2c by prior knowledge (§3.3) is not offered,
 * since a server that only speaks HTTP/1.1 would then fail every request instead of falling back.
 */
export function checkUpstreamTransport(
  p: { servers: readonly { url: string }[]; discovery?: { type: string }; tls?: unknown; http2: boolean },
  ctx: z.RefinementCtx,
): void {
  const srv = p.discovery?.type === 'dns-srv';
  const secure = p.servers.map((s) => /^https:/i.test(s.url));
  if (p.tls !== undefined && srv) {
    ctx.addIssue({ code: 'custom', path: ['tls'], message: '"tls" is not supported with discovery "dns-srv" yet (SRV answers become http:// servers)' });
  } else if (p.tls !== undefined && p.servers.length > 0 && !secure.includes(true)) {
    ctx.addIssue({ code: 'custom', path: ['tls'], message: '"tls" applies to https:// servers and this pool has none (write the servers as "https://host:port")' });
  }
  if (!p.http2) return;
  if (srv) {
    ctx.addIssue({ code: 'custom', path: ['http2'], message: '"http2" needs https:// servers, and discovery "dns-srv" gives http:// ones' });
    return;
  }
  const plain = secure.indexOf(false);
  if (plain !== -1) {
    ctx.addIssue({ code: 'custom', path: ['http2'], message: `"http2" needs every server to be https:// (h2 is negotiated by ALPN over TLS; cleartext h2c is not supported), but servers[${plain}] is ${JSON.stringify(p.servers[plain].url)}` });
  }
}
