// HTTP-01 challenge answers (RFC 8555 §8.3): while an order is pending, the CA fetches
// `http://<host>/.well-known/acme-challenge/<token>` on port 80 and expects the key authorization as
// the body. One table per stack, filled by every ACME listener and read by every cleartext
// listener before host policy or routing, so a redirect or a route can never shadow the answer.
import type { PorticoResponse } from '../../http/types.ts';

export const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

export class AcmeChallenges {
  private readonly tokens = new Map<string, string>();

  set(token: string, keyAuthorization: string): void {
    this.tokens.set(token, keyAuthorization);
  }

  delete(token: string): void {
    this.tokens.delete(token);
  }

  get size(): number {
    return this.tokens.size;
  }

  /**
   * The answer for a request path, or null when the path is not a known token (the request then
   * goes on to routing: another ACME client behind the stack may own it).
   */
  answer(path: string): PorticoResponse | null {
    if (this.tokens.size === 0 || !path.startsWith(CHALLENGE_PREFIX)) return null;
    const keyAuthorization = this.tokens.get(path.slice(CHALLENGE_PREFIX.length));
    if (keyAuthorization === undefined) return null;
    // §8.3: the body is the key authorization; a validator accepts application/octet-stream.
    return { status: 200, headers: { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' }, body: keyAuthorization };
  }
}
