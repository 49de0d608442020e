// Sessions: a signed session cookie naming data in a store (or, with the cookie store, holding
// it). The cookie is HttpOnly (scripts cannot read it, so an XSS cannot lift the session),
// SameSite=Lax by default (not sent on cross-site POSTs: the first line against CSRF) and Secure
// on https. Ids are 192 random bits and only ever minted here: an id the client makes up is never
// adopted (no session fixation), and `regenerate()` gives a fresh id at login so an id seen
// before login is worthless after it (OWASP Session Management: renew the id on privilege change).
// Nothing is stored or sent for a visitor whose session stays empty.
import { randomBytes } from 'node:crypto';
import { SESSION_KEY, type Context } from './context.ts';
import type { Middleware } from './middleware.ts';
import type { CookieOptions } from './cookie.ts';
import { MemoryStore } from './memory-store.ts';
import { CookieSigner, type Secrets } from './signed-cookie.ts';
import type { SessionData, SessionStore } from './session-store.ts';

export interface SessionOptions {
  /** Where the data lives. Default: a `MemoryStore` (one process only). */
  store?: SessionStore;
  /** Signs the session cookie; a list rotates keys (newest first signs, all verify). */
  secret: Secrets;
  /** Default 'sid'. */
  cookieName?: string;
  /** Seconds, counted from the last change; both the cookie's Max-Age and the store's TTL. Default 1 day. */
  maxAge?: number;
  /** Default 'Lax'. */
  sameSite?: 'Strict' | 'Lax' | 'None';
  /** Default 'auto': Secure when the request came over https (its URL or `X-Forwarded-Proto`). */
  secure?: boolean | 'auto';
  path?: string;
  domain?: string;
}

export class Session {
  #id: string;
  #data: SessionData;
  /** True when no stored session was found for this request. */
  readonly isNew: boolean;
  #dirty = false;
  #destroyed = false;
  /** Ids replaced by `regenerate()`, deleted from the store on the way out. */
  readonly #retired: string[] = [];

  constructor(id: string, data: SessionData, isNew: boolean) {
    this.#id = id;
    this.#data = data;
    this.isNew = isNew;
  }

  get id(): string {
    return this.#id;
  }

  get<T = unknown>(key: string): T | undefined {
    return this.#data[key] as T | undefined;
  }

  /** Stores a JSON value; saved when the response goes out. */
  set(key: string, value: unknown): void {
    this.#live('set');
    this.#data[key] = value;
    this.#dirty = true;
  }

  delete(key: string): void {
    this.#live('delete');
    if (key in this.#data) {
      delete this.#data[key];
      this.#dirty = true;
    }
  }

  /** A copy of all values. */
  toJSON(): SessionData {
    return structuredClone(this.#data);
  }

  /** New id, same data; the old id stops working. Call it on login and on any privilege change. */
  regenerate(): void {
    this.#live('regenerate');
    this.#retired.push(this.#id);
    this.#id = newSessionId();
    this.#dirty = true;
  }

  /** Removes the session from the store and expires the cookie (logout). */
  destroy(): void {
    this.#destroyed = true;
    this.#data = {};
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** @internal what the middleware needs on the way out */
  pending(): { dirty: boolean; destroyed: boolean; retired: readonly string[]; data: SessionData } {
    return { dirty: this.#dirty, destroyed: this.#destroyed, retired: this.#retired, data: this.#data };
  }

  #live(what: string): void {
    if (this.#destroyed) throw new Error(`session.${what}(): the session was destroyed in this request`);
  }
}

export function newSessionId(): string {
  return randomBytes(24).toString('base64url');
}

/** True for https requests, directly or behind a proxy that says so. */
export function isHttps(c: Context): boolean {
  if (c.req.url.startsWith('https:')) return true;
  // Trusting the header is safe here: a client that lies about https only gets a Secure cookie
  // its own plain-http connection will not send back.
  const xfp = c.req.headers.get('x-forwarded-proto');
  return xfp !== null && xfp.split(',')[0].trim().toLowerCase() === 'https';
}

export function session(options: SessionOptions): Middleware {
  const store = options.store ?? new MemoryStore();
  const signer = new CookieSigner(options.secret);
  const name = options.cookieName ?? 'sid';
  const maxAge = options.maxAge ?? 86_400;
  if (!(maxAge > 0)) throw new TypeError('session(): maxAge must be a positive number of seconds');
  const sameSite = options.sameSite ?? 'Lax';
  const secureOpt = options.secure ?? 'auto';
  const base: CookieOptions = { path: options.path ?? '/', domain: options.domain, httpOnly: true, sameSite };

  const mw: Middleware = async function session(c, next) {
    const { res, wroteCookie } = await run(c, next);
    return privateResponse(res, wroteCookie);
  };

  const run = async (c: Context, next: () => Promise<Response>): Promise<{ res: Response; wroteCookie: boolean }> => {
    const raw = c.cookie(name);
    const value = raw === undefined ? null : signer.unsign(name, raw);
    const stored = value === null ? null : await store.get(value);
    const s = stored === null ? new Session(newSessionId(), {}, true) : new Session(stored.id, stored.data, false);
    c.set(SESSION_KEY, s);

    const res = await next();

    const attrs: CookieOptions = { ...base, secure: secureOpt === 'auto' ? isHttps(c) : secureOpt };
    const out = s.pending();
    if (out.destroyed) {
      // The cookie store keeps nothing server-side: expiring the cookie is all there is.
      await Promise.all([...out.retired, s.id].map((id) => store.destroy(id)));
      if (raw !== undefined) c.deleteCookie(name, attrs);
      return { res, wroteCookie: raw !== undefined };
    }
    await Promise.all(out.retired.map((id) => store.destroy(id)));
    // A cookie signed with a retired secret is re-signed now, so the rotation completes.
    const stale = raw !== undefined && stored !== null && signer.isStale(name, raw);
    if (!out.dirty && !stale) return { res, wroteCookie: false };
    const saved = await store.set(s.id, out.data, maxAge * 1000);
    c.setCookie(name, signer.sign(name, saved), { ...attrs, maxAge });
    return { res, wroteCookie: true };
  };
  return mw;
}

/**
 * What a response holds depends on the session cookie, so a shared cache must not hand it to
 * someone else: `Vary: Cookie` always (RFC 9110 §12.5.5), and `Cache-Control: private` when it
 * sets the cookie and the handler chose no caching policy (RFC 9111 §5.2.2.7; a stored
 * Set-Cookie would give one visitor's session to the next).
 */
function privateResponse(res: Response, setsCookie: boolean): Response {
  const apply = (h: Headers) => {
    const vary = h.get('vary');
    if (vary === null) h.set('vary', 'Cookie');
    else if (!/(^|,)\s*(\*|cookie)\s*(,|$)/i.test(vary)) h.set('vary', `${vary}, Cookie`);
    if (setsCookie && !h.has('cache-control')) h.set('cache-control', 'private');
  };
  try {
    apply(res.headers);
    return res;
  } catch {
    // Immutable headers (Response.redirect(), a fetch() response): copy, then change.
    const copy = new Response(res.body, { status: res.status, statusText: res.statusText, headers: new Headers(res.headers) });
    apply(copy.headers);
    return copy;
  }
}
