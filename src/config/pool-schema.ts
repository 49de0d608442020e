// The balancer's part of a pool's config: selection policy, queue, retries, the all-down answer
// and active health checks. Kept apart from schema.ts so the pool fields read as one block.
import { z } from 'zod';
import { duration, leaf, nonEmpty, positiveInt, strictObject } from './fields.ts';
import { isIP } from 'node:net';
import type { ResolvedDiscovery, ResolvedHealthCheck, ResolvedPassive, ResolvedPolicy } from './resolved.ts';

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
