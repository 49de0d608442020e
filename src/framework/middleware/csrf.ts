// CSRF protection for cookie sessions, in the OWASP cheat sheet's order:
// 1. Fetch Metadata / Origin first: a browser says where an unsafe request comes from
//    (`Sec-Fetch-Site`, else `Origin`); anything not same-origin (or a listed trusted origin) is
//    refused before any token is looked at.
// 2. Then the (signed) double-submit token: a random token in a cookie, echoed by the page in a
//    header or form field. A cross-site page can make the browser send the cookie but cannot read
//    it to echo it. With `secret` the token is HMAC-signed (OWASP "signed double-submit cookie"),
//    so a cookie planted from a sibling subdomain is rejected unless it was minted here.
// Safe methods (RFC 9110 §9.2.1) pass and get a token; handlers read it with c.get('csrfToken').
// Not covered: binding the token to the session id (renew it yourself at login by deleting the
// cookie), and requests from non-browser clients that send neither header (they pass step 1 and
// must still present the token).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ForbiddenError } from '../../http/errors.ts';
import type { Context } from '../context.ts';
import type { Middleware } from '../middleware.ts';
import { CookieSigner, type Secrets } from '../signed-cookie.ts';
import { FORM_TYPES, mediaType } from '../body.ts';
import { isHttps } from '../session.ts';

export interface CsrfOptions {
  /** Default 'csrf'. Not HttpOnly: the page's script reads it to send it back in the header. */
  cookieName?: string;
  /** Default 'x-csrf-token'. */
  headerName?: string;
  /** Form field checked for urlencoded/multipart bodies when the header is absent. Default '_csrf'. */
  formField?: string;
  /** Sign tokens (HMAC-SHA256; a list rotates keys). Recommended. */
  secret?: Secrets;
  /** Origins besides the request's own allowed to send unsafe requests, e.g. 'https://admin.example.com'. */
  trustedOrigins?: readonly string[];
  /** Default 'auto': Secure on https (the URL or `X-Forwarded-Proto`). */
  secure?: boolean | 'auto';
  /** Default 'Lax'. */
  sameSite?: 'Strict' | 'Lax';
  path?: string;
  domain?: string;
}

export const CSRF_TOKEN_KEY = 'csrfToken';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export function csrf(options: CsrfOptions = {}): Middleware {
  const cookieName = options.cookieName ?? 'csrf';
  const headerName = options.headerName ?? 'x-csrf-token';
  const formField = options.formField ?? '_csrf';
  const signer = options.secret === undefined ? null : new CookieSigner(options.secret);
  const trusted = new Set(options.trustedOrigins ?? []);
  const secure = options.secure ?? 'auto';

  /** The token in the request's cookie if it is well formed (and signed by us), else null. */
  const cookieToken = (c: Context): string | null => {
    const raw = c.cookie(cookieName);
    if (raw === undefined || raw === '') return null;
    if (signer === null) return /^[\w-]{20,}$/.test(raw) ? raw : null;
    return signer.unsign(cookieName, raw) === null ? null : raw;
  };

  const mint = (c: Context): string => {
    const rand = randomBytes(24).toString('base64url');
    const token = signer === null ? rand : signer.sign(cookieName, rand);
    c.setCookie(cookieName, token, {
      path: options.path ?? '/', domain: options.domain, httpOnly: false,
      sameSite: options.sameSite ?? 'Lax', secure: secure === 'auto' ? isHttps(c) : secure,
    });
    return token;
  };

  return async function csrf(c, next) {
    const existing = cookieToken(c);
    if (SAFE.has(c.req.method)) {
      c.set(CSRF_TOKEN_KEY, existing ?? mint(c));
      return next();
    }
    checkSource(c, trusted);
    if (existing === null) throw new ForbiddenError('CSRF token cookie missing or invalid: load a page first', 'CSRF_COOKIE_MISSING');
    let sent = c.req.headers.get(headerName) ?? undefined;
    if (sent === undefined && FORM_TYPES.includes(mediaType(c.req))) {
      // Kept by the context, so the handler can still read the form.
      const field = (await c.bodyForm()).get(formField);
      if (typeof field === 'string') sent = field;
    }
    if (sent === undefined) throw new ForbiddenError(`CSRF token missing: send it in ${headerName} or the ${formField} field`, 'CSRF_TOKEN_MISSING');
    if (!sameString(sent, existing)) throw new ForbiddenError('CSRF token does not match', 'CSRF_TOKEN_INVALID');
    c.set(CSRF_TOKEN_KEY, existing);
    return next();
  };
}

function checkSource(c: Context, trusted: ReadonlySet<string>): void {
  const origin = c.req.headers.get('origin');
  const site = c.req.headers.get('sec-fetch-site');
  // 'none' is a user action (address bar, bookmark): no page made this request.
  if (site === 'same-origin' || site === 'none') return;
  if (site !== null) {
    if (origin !== null && trusted.has(origin)) return;
    throw new ForbiddenError(`cross-origin request refused (Sec-Fetch-Site: ${site})`, 'CSRF_CROSS_ORIGIN');
  }
  // Older browsers: Origin against the request's own origin (the URL the app server built from
  // Host, so behind a proxy that must keep Host; list other public origins in trustedOrigins).
  if (origin === null) return;
  if (origin === requestOrigin(c) || trusted.has(origin)) return;
  throw new ForbiddenError(`cross-origin request refused (Origin: ${origin})`, 'CSRF_CROSS_ORIGIN');
}

function requestOrigin(c: Context): string {
  const url = new URL(c.req.url);
  return isHttps(c) && url.protocol === 'http:' ? `https://${url.host}` : url.origin;
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
