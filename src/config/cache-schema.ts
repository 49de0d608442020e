// The per-route `cache` field (src/cache): `true` for the defaults or an object; sizes in bytes or
// "256MiB", durations in ms or "30s". Resolved here too, so the defaults live in one place.
import { z } from 'zod';
import { BYTE_SIZE_EXPECTED, parseByteSize } from './byte-size.ts';
import { cidr, duration, leaf, oneLine, strictObject } from './fields.ts';
import type { ResolvedCache } from './resolved.ts';

const byteSize = leaf<number | string>(BYTE_SIZE_EXPECTED, (v) => parseByteSize(v) !== undefined).transform((v) => parseByteSize(v) as number);
const fieldName = leaf<string>('a header field name like "x-tenant"', (v) => typeof v === 'string' && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(v));

// `true`/`false` become the object form / nothing first, so errors inside the object name their field
// (a union would only say "Invalid input" for the whole `cache`).
export const cacheSchema = z.preprocess((v) => (v === true ? {} : v === false ? undefined : v), strictObject({
  store: z.enum(['memory', 'redis']).optional(),
  redis: strictObject({
    url: leaf<string>('a redis:// or rediss:// URL', (v) => typeof v === 'string' && /^rediss?:\/\/\S+$/.test(v)),
    prefix: z.string().min(1).optional(),
    ttl: duration.optional(),
  }).optional(),
  maxBytes: byteSize.optional(),
  maxObjectBytes: byteSize.optional(),
  heuristicFraction: z.number().min(0).max(1).optional(),
  maxHeuristic: duration.optional(),
  coalesceTimeout: duration.optional(),
  grace: duration.optional(),
  keyHeaders: z.array(fieldName).optional(),
  // Who may send `PURGE <url>` through the data plane: client addresses (CIDR) or a bearer token.
  purge: strictObject({
    allow: z.array(cidr).optional(),
    token: oneLine.optional(),
  }).refine((p) => p.allow !== undefined || p.token !== undefined, { error: 'purge needs "allow" (addresses) or "token", else nobody could use it' }).optional(),
}).refine((c) => (c.store === 'redis') === (c.redis !== undefined), {
  error: (issue) => ((issue.input as { store?: string }).store === 'redis'
    ? 'missing: store "redis" needs redis: { url: "redis://host:6379" }'
    : '"redis" is set but "store" is not "redis": add store: "redis" or remove "redis"'),
}).optional());

export const CACHE_DEFAULTS: ResolvedCache = {
  store: 'memory',
  maxBytes: 256 * 1024 * 1024,
  maxObjectBytes: 8 * 1024 * 1024,
  // RFC 9111 §4.2.2: "10% of the interval since Last-Modified" is the typical setting; bounded at a day.
  heuristicFraction: 0.1,
  maxHeuristic: 86_400_000,
  coalesceTimeout: 10_000,
  grace: 0,
  keyHeaders: [],
};

export function resolveCache(input: z.output<typeof cacheSchema>): ResolvedCache | undefined {
  if (input === undefined) return undefined;
  const out: ResolvedCache = { ...CACHE_DEFAULTS };
  for (const key of Object.keys(input) as (keyof typeof input)[]) {
    if (input[key] !== undefined) Object.assign(out, { [key]: key === 'keyHeaders' ? input.keyHeaders?.map((h) => h.toLowerCase()) : input[key] });
  }
  return out;
}
