// One interface for where session data lives, so the session middleware does not care whether
// it is in the cookie itself, in this process's memory, or in Redis shared by several machines.
// Data is JSON (every store serialises it the same way, so a value that works with the memory
// store works with Redis too, and a handler mutating what it read cannot change the stored copy).

export type SessionData = Record<string, unknown>;

export interface StoredSession {
  readonly id: string;
  readonly data: SessionData;
}

export interface SessionStore {
  /** True when the data travels in the cookie: nothing server-side, so destroy cannot revoke. */
  readonly inCookie: boolean;
  /** The session a cookie value names, or null when unknown, expired or unreadable. */
  get(cookieValue: string): Promise<StoredSession | null>;
  /** Saves `data` under `id` for `ttlMs`; resolves to the cookie value that names it. */
  set(id: string, data: SessionData, ttlMs: number): Promise<string>;
  /** Forgets the session (server-side stores); later `get`s of it resolve to null. */
  destroy(id: string): Promise<void>;
}

/** JSON only: a Map, Date or class instance would come back different, so say so at once. */
export function encodeData(data: SessionData): string {
  const json = JSON.stringify(data);
  if (json === undefined) throw new TypeError('session data must be a JSON object');
  return json;
}

export function decodeData(json: string): SessionData | null {
  try {
    const v: unknown = JSON.parse(json);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as SessionData) : null;
  } catch {
    return null;
  }
}
