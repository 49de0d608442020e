// Signed values: `value.signature`, the signature being HMAC-SHA256 over the cookie's name and
// value (binding the name stops a valid value from being replayed under another cookie's name).
// Key rotation: a list of secrets, the first (newest) signs, every one verifies, so a new secret
// can be put in front and an old one dropped later without logging everybody out. Comparison is
// constant-time (timingSafeEqual on equal-length digests) so a forger learns nothing from timing.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A secret shorter than this is guessable offline from one signed cookie. */
export const MIN_SECRET_LENGTH = 32;

export type Secrets = string | readonly string[];

export class CookieSigner {
  readonly #keys: readonly string[];

  constructor(secrets: Secrets) {
    const keys = typeof secrets === 'string' ? [secrets] : [...secrets];
    if (keys.length === 0) throw new TypeError('cookie signing needs at least one secret');
    for (const k of keys) {
      if (typeof k !== 'string' || k.length < MIN_SECRET_LENGTH) {
        throw new TypeError(`cookie secrets must be strings of at least ${MIN_SECRET_LENGTH} characters`);
      }
    }
    this.#keys = keys;
  }

  /** `value.sig`, signed with the newest secret. */
  sign(name: string, value: string): string {
    return `${value}.${mac(this.#keys[0], name, value).toString('base64url')}`;
  }

  /** The value if any secret signed it, else null (tampered, truncated, or an unknown key). */
  unsign(name: string, signed: string): string | null {
    const dot = signed.lastIndexOf('.');
    if (dot === -1) return null;
    const value = signed.slice(0, dot);
    const given = Buffer.from(signed.slice(dot + 1), 'base64url');
    if (given.length !== 32) return null; // SHA-256 digest length; timingSafeEqual needs equal sizes
    let ok = false;
    // Every key is tried even after a match, so timing does not tell which key signed.
    for (const key of this.#keys) {
      if (timingSafeEqual(mac(key, name, value), given)) ok = true;
    }
    return ok ? value : null;
  }

  /** True when the value was signed with an older secret: re-sign it to finish a rotation. */
  isStale(name: string, signed: string): boolean {
    const dot = signed.lastIndexOf('.');
    if (dot === -1) return false;
    const given = Buffer.from(signed.slice(dot + 1), 'base64url');
    if (given.length !== 32) return false;
    return !timingSafeEqual(mac(this.#keys[0], name, signed.slice(0, dot)), given);
  }
}

function mac(key: string, name: string, value: string): Buffer {
  // '=' cannot appear in a cookie name, so `name=value` is unambiguous.
  return createHmac('sha256', key).update(`${name}=${value}`).digest();
}
