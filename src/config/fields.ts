// Leaf fields with a domain meaning (ports, durations, URLs, paths…) and the strict object builder.
// Each leaf has one message that names the bad value and what was expected, instead of zod's
// per-check messages ("Too big: expected number to be <=65535").
import { isIP } from 'node:net';
import { z } from 'zod';
import { DURATION_EXPECTED, MAX_DURATION_MS, parseDuration } from './duration.ts';
import { expectation, show, unknownFieldMessage, UNKNOWN_FIELD } from './issues.ts';

/** A field checked by one predicate and described by one phrase. */
export function leaf<T>(expected: string, test: (value: unknown) => boolean) {
  return z.custom<T>(test, { error: (issue) => expectation(expected, issue.input) });
}

/**
 * An object whose unknown keys are errors, one per key, suggesting the closest known key.
 * (zod's strictObject reports all unknown keys of an object as one issue, with no suggestion.)
 */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape);
  const unknownField = z.custom<unknown>(() => false, {
    params: { [UNKNOWN_FIELD]: true, known },
    error: (issue) => unknownFieldMessage(issue.path?.at(-1) as string | undefined, known),
  });
  return z.object(shape).catchall(unknownField);
}

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isString = (value: unknown): value is string => typeof value === 'string';
const isInteger = (value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
// CR, LF and NUL would split or end a header line (RFC 9110 §5.5): never let config inject one.
const isOneLine = (value: unknown): value is string => isString(value) && value.trim() !== '' && !/[\r\n\0]/.test(value);

export const nonEmpty = leaf<string>('a non-empty string', (v) => isString(v) && v.trim() !== '');
export const oneLine = leaf<string>('a non-empty string on one line', isOneLine);
export const positiveInt = leaf<number>('a positive integer', (v) => isInteger(v, 1));
export const port = leaf<number>('a port (an integer 0–65535)', (v) => isInteger(v, 0, 65535));
export const workers = leaf<number | 'auto'>('a positive integer or "auto"', (v) => v === 'auto' || isInteger(v, 1));

/** Pool and app names appear in paths, logs and metrics labels: keep them plain. */
export const NAME = /^[A-Za-z0-9][\w.-]*$/;
export const NAME_EXPECTED = 'a name of letters, digits, "_", "-" or "." (starting with a letter or digit)';
export const name = leaf<string>(NAME_EXPECTED, (v) => isString(v) && NAME.test(v));

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
export const isHostname = (value: string): boolean => HOSTNAME.test(value);

/** One exact host name (no wildcard), e.g. a key of `canonicalHosts`. */
export const hostName = z.custom<string>((v) => isString(v) && HOSTNAME.test(v), { error: 'expected a host name like "www.example.com"' });

/** An address to listen on. */
export const listenHost = leaf<string>('an IP address or host name like "127.0.0.1", "::" or "localhost"',
  (v) => isString(v) && (isIP(v) !== 0 || HOSTNAME.test(v)));

/** Loopback addresses, the only ones where an unauthenticated admin API is acceptable. */
export const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));

const isHostPattern = (v: unknown): boolean =>
  isString(v) && (HOSTNAME.test(v.replace(/^\*\./, '')) || /^\[[0-9a-f:.]+\]$/i.test(v));

/** Route hosts: `example.com`, `*.example.com`, or a list of them. */
export const hostPatterns = z.custom<string | string[]>(
  (v) => isHostPattern(v) || (Array.isArray(v) && v.length > 0 && v.every(isHostPattern)),
  {
    error: (issue) => {
      const expected = 'a host name like "example.com" or "*.example.com", or a non-empty list of them';
      const bad = Array.isArray(issue.input) ? issue.input.find((h) => !isHostPattern(h)) : undefined;
      return bad === undefined ? expectation(expected, issue.input) : `expected ${expected}, got ${show(bad)} in the list`;
    },
  },
);

/** A route's path prefix: "/" then clean segments; one trailing slash is tolerated and removed later. */
export const routePath = leaf<string>('a path starting with "/" like "/api" (no "?", "#", "//", "." or ".." segments)',
  (v) => {
    if (!isString(v) || !v.startsWith('/') || /[?#\s]/.test(v)) return false;
    if (v === '/') return true;
    const segments = v.replace(/\/$/, '').slice(1).split('/');
    return segments.every((s) => s !== '' && s !== '.' && s !== '..');
  });

/** Non-negative ms, or "500ms" / "30s" / "2m" / "1h"; resolves to ms. */
export const duration = z
  .custom<number | string>((v) => {
    const ms = parseDuration(v);
    return ms !== undefined && ms <= MAX_DURATION_MS;
  }, {
    error: (issue) => {
      const ms = parseDuration(issue.input);
      return ms !== undefined
        ? `${show(issue.input)} is too long: timers cannot wait more than ${MAX_DURATION_MS}ms (~24.8 days)`
        : expectation(DURATION_EXPECTED, issue.input);
    },
  })
  .transform((v) => parseDuration(v) as number);

export const SERVER_URL_EXPECTED = '"http://host:port", "https://host:port" or "unix:/path/to.sock"';
const HTTP_URL = /^(https?):\/\/(\[[0-9a-f:.]+\]|[^\s/:?#@[\]]+):(\d{1,5})\/?$/i;

/**
 * `http://host:port`, `https://host:port` (TLS to the server; port required: an upstream has no
 * sensible default) or `unix:path`.
 */
export function parseServerUrl(url: string):
  | { kind: 'tcp'; host: string; port: number; secure: boolean }
  | { kind: 'unix'; path: string }
  | undefined {
  if (url.startsWith('unix:')) {
    const path = url.slice('unix:'.length);
    return path !== '' && !/[\0\s]/.test(path) ? { kind: 'unix', path } : undefined;
  }
  const match = HTTP_URL.exec(url);
  if (match === null) return undefined;
  const port = Number(match[3]);
  const host = match[2].replace(/^\[(.*)\]$/, '$1');
  const valid = port >= 1 && port <= 65535 && (isIP(host) !== 0 || HOSTNAME.test(host));
  return valid ? { kind: 'tcp', host, port, secure: match[1].toLowerCase() === 'https' } : undefined;
}

export const serverUrl = leaf<string>(SERVER_URL_EXPECTED, (v) => isString(v) && parseServerUrl(v) !== undefined);

/** Addresses or CIDR ranges, as node:net's BlockList will take them. */
export const cidr = leaf<string>('an IP address or CIDR range like "10.0.0.0/8" or "::1/128"', (v) => {
  if (!isString(v)) return false;
  const [address, bits, ...rest] = v.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
});

/** `$request_uri` (nginx's variable) stands for the request's path and query, e.g. "https://example.com$request_uri". */
export const redirectTo = leaf<string>('a path starting with "/" or an absolute http(s) URL (may use $request_uri)', (v) => {
  if (!isOneLine(v) || /\s/.test(v)) return false;
  const to = v.replaceAll('$request_uri', '/');
  if (to.startsWith('/')) return true;
  return URL.canParse(to) && /^https?:$/.test(new URL(to).protocol);
});

// A field name is a token (RFC 9110 §5.1, §5.6.2).
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Response headers for `respond` routes: token names, one-line values. */
export const headers = z.custom<Record<string, string>>(
  (v) => isPlainObject(v) && Object.entries(v).every(([k, value]) => TOKEN.test(k) && isString(value) && !/[\r\n\0]/.test(value)),
  {
    error: (issue) => {
      const expected = 'an object of header names (RFC 9110 tokens) to one-line string values';
      if (!isPlainObject(issue.input)) return expectation(expected, issue.input);
      const bad = Object.entries(issue.input).find(([k, value]) => !TOKEN.test(k) || !isString(value) || /[\r\n\0]/.test(value));
      return bad === undefined ? `expected ${expected}` : `expected ${expected}, got ${show(bad[0])}: ${show(bad[1])}`;
    },
  },
);
