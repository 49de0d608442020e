// Cookies on the wire: the request's `Cookie` header parsed the way user agents produce it and
// servers must read it (RFC 6265 §5.2 and §4.2.1), and `Set-Cookie` values built with every
// attribute of RFC 6265 §4.1 plus SameSite (RFC 6265bis §4.1.2.7) and Partitioned (CHIPS).
// Values are percent-encoded on the way out and decoded on the way in, so any string survives;
// a value that is not valid percent-encoding (set by another stack) is kept as sent.

export interface CookieOptions {
  /** Seconds; 0 or less expires the cookie now (RFC 6265 §5.2.2). Wins over `expires` in agents. */
  maxAge?: number;
  expires?: Date;
  domain?: string;
  /** Default '/': without it an agent scopes the cookie to the request's directory (§5.1.4). */
  path?: string;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
  partitioned?: boolean;
  priority?: 'Low' | 'Medium' | 'High';
}

/**
 * `Cookie: a=1; b=2` → { a: '1', b: '2' }. The first of a repeated name wins: agents send the
 * cookie with the longest path first (§5.4 step 2), which is the most specific one.
 */
export function parseCookies(header: string | null | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!header) return out;
  let at = 0;
  while (at < header.length) {
    let end = header.indexOf(';', at);
    if (end === -1) end = header.length;
    const eq = header.indexOf('=', at);
    // §5.2 step 2: a pair without '=' is ignored.
    if (eq !== -1 && eq < end) {
      const name = header.slice(at, eq).trim();
      if (name !== '' && !(name in out)) out[name] = decodeValue(header.slice(eq + 1, end).trim());
    }
    at = end + 1;
  }
  return out;
}

function decodeValue(raw: string): string {
  // §4.1.1: a value may be wrapped in DQUOTEs, which are not part of it.
  const v = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

// RFC 6265 §4.1.1: cookie-name is an RFC 9110 token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Attribute values may not hold ';' or CTLs (§4.1.1 av-octet); matching CTLs is the point here.
// eslint-disable-next-line no-control-regex
const ATTR_VALUE = /^[^\x00-\x1f\x7f;]*$/;

/** A `Set-Cookie` field value. Throws on what an agent would misread (bad name, ';' in a path). */
export function serializeCookie(name: string, value: string, options: CookieOptions = {}): string {
  if (!TOKEN.test(name)) throw new TypeError(`invalid cookie name: ${JSON.stringify(name)}`);
  let out = `${name}=${encodeURIComponent(value)}`;
  if (options.maxAge !== undefined) {
    if (!Number.isFinite(options.maxAge)) throw new TypeError(`cookie ${name}: maxAge must be a finite number`);
    out += `; Max-Age=${Math.max(0, Math.floor(options.maxAge))}`;
  }
  if (options.expires !== undefined) {
    if (Number.isNaN(options.expires.getTime())) throw new TypeError(`cookie ${name}: expires is an invalid date`);
    out += `; Expires=${options.expires.toUTCString()}`; // §5.1.1 sane-cookie-date (IMF-fixdate)
  }
  if (options.domain !== undefined) out += `; Domain=${attr(name, 'domain', options.domain)}`;
  out += `; Path=${attr(name, 'path', options.path ?? '/')}`;
  if (options.secure) out += '; Secure';
  if (options.httpOnly) out += '; HttpOnly';
  if (options.sameSite !== undefined) {
    // RFC 6265bis §4.1.2.7: agents reject SameSite=None without Secure.
    if (options.sameSite === 'None' && !options.secure) throw new TypeError(`cookie ${name}: SameSite=None requires secure`);
    out += `; SameSite=${options.sameSite}`;
  }
  if (options.partitioned) {
    if (!options.secure) throw new TypeError(`cookie ${name}: Partitioned requires secure`);
    out += '; Partitioned';
  }
  if (options.priority !== undefined) out += `; Priority=${options.priority}`;
  return out;
}

function attr(cookie: string, what: string, value: string): string {
  if (!ATTR_VALUE.test(value)) throw new TypeError(`cookie ${cookie}: invalid ${what} ${JSON.stringify(value)}`);
  return value;
}
