// Sessions carried entirely in the cookie: no server state, so any worker on any machine can read
// them. The session middleware signs the cookie, so the client cannot change the data, but it
// can READ it (base64url JSON, not encrypted): keep secrets out of it. The expiry is inside the
// signed payload, so an old cookie replayed after its Max-Age is refused. Destroy cannot revoke a
// copy the client kept; only the expiry bounds it. RFC 6265 §6.1: agents keep at least 4096
// bytes per cookie, so data that would not fit is refused when saving, not silently lost.
import { decodeData, encodeData, type SessionData, type SessionStore, type StoredSession } from './session-store.ts';

export interface CookieStoreOptions {
  /**
   * Longest encoded value. Default 3900: with the name, the 44-character signature and the
   * attributes, the Set-Cookie stays under 4096 bytes.
   */
  maxBytes?: number;
}

export class SessionTooLargeError extends Error {
  constructor(bytes: number, max: number) {
    super(`session data is ${bytes} bytes encoded, over the cookie store's ${max}; use a server-side store`);
    this.name = 'SessionTooLargeError';
  }
}

export class CookieStore implements SessionStore {
  readonly inCookie = true;
  readonly #maxBytes: number;

  constructor(options: CookieStoreOptions = {}) {
    this.#maxBytes = options.maxBytes ?? 3900;
  }

  async get(cookieValue: string): Promise<StoredSession | null> {
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(cookieValue, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    if (typeof payload !== 'object' || payload === null) return null;
    const { i, e, d } = payload as { i?: unknown; e?: unknown; d?: unknown };
    if (typeof i !== 'string' || typeof e !== 'number' || typeof d !== 'string' || e <= Date.now()) return null;
    const data = decodeData(d);
    return data === null ? null : { id: i, data };
  }

  async set(id: string, data: SessionData, ttlMs: number): Promise<string> {
    const value = Buffer.from(JSON.stringify({ i: id, e: Date.now() + ttlMs, d: encodeData(data) })).toString('base64url');
    if (value.length > this.#maxBytes) throw new SessionTooLargeError(value.length, this.#maxBytes);
    return value;
  }

  async destroy(): Promise<void> {
    // Nothing server-side to forget; the middleware expires the cookie.
  }
}
