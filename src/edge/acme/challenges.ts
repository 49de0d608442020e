// Pending challenge answers, one table per stack, filled by every ACME listener. HTTP-01 (RFC 8555
// §8.3): the CA fetches `http://<host>/.well-known/acme-challenge/<token>` on port 80 and expects the
// key authorization as the body; every cleartext listener reads this table before host policy or
// routing, so a redirect or a route can never shadow the answer. TLS-ALPN-01 (RFC 8737): the CA
// opens TLS to port 443 offering only `acme-tls/1`; every https listener looks up the validation
// certificate for the SNI name here (tls-alpn.ts).
import type { SecureContext } from 'node:tls';
import type { PorticoResponse } from '../../http/types.ts';

export const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

export class AcmeChallenges {
  private readonly tokens = new Map<string, string>();
  /** TLS-ALPN-01 validation certificates by lower-case host name. */
  private readonly validations = new Map<string, SecureContext>();

  set(token: string, keyAuthorization: string): void {
    this.tokens.set(token, keyAuthorization);
  }

  delete(token: string): void {
    this.tokens.delete(token);
  }

  get size(): number {
    return this.tokens.size;
  }

  setValidation(host: string, context: SecureContext): void {
    this.validations.set(host.toLowerCase(), context);
  }

  deleteValidation(host: string): void {
    this.validations.delete(host.toLowerCase());
  }

  /** How many TLS-ALPN-01 validations are pending (0: handshakes skip the lookup entirely). */
  get validationCount(): number {
    return this.validations.size;
  }

  /** The TLS-ALPN-01 validation certificate for an SNI name, if one is pending. */
  validationFor(servername: string): SecureContext | undefined {
    return this.validations.size === 0 ? undefined : this.validations.get(servername.toLowerCase());
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
