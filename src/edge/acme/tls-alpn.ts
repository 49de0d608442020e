// TLS-ALPN-01 (RFC 8737): the CA connects to port 443 of the name it validates, puts that name in
// SNI and offers one ALPN protocol, `acme-tls/1`; it expects a self-signed certificate for exactly
// that name whose critical acmeIdentifier extension (1.3.6.1.5.5.7.1.31) holds the SHA-256 of the
// key authorization (§3), then closes. That certificate must reach only such connections: every other
// client on the same name keeps getting the real one.
//
// Node picks the certificate in the SNICallback and the protocol in the ALPNCallback, and runs them
// in ClientHello order: with TLS 1.3 ALPN comes first, so the certificate can follow the protocol;
// with TLS 1.2 the certificate is already chosen when ALPN is seen, so `acme-tls/1` is refused there
// (the handshake ends with no_application_protocol; Let's Encrypt's and pebble's validators offer
// TLS 1.3). Both callbacks are called on the server's TLSSocket, which ties them to one handshake.
import tls, { type SecureContext, type TLSSocket } from 'node:tls';
import * as acme from 'acme-client';
import type { AcmeChallenges } from './challenges.ts';

export const ACME_TLS_1 = 'acme-tls/1';

/** The validation certificate for `host` (acme-client builds it: SAN = host, critical acmeIdentifier). */
export async function validationContext(host: string, keyAuthorization: string): Promise<SecureContext> {
  const authz = { identifier: { type: 'dns', value: host } } as acme.Authorization;
  const [key, cert] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization, await acme.crypto.createPrivateEcdsaKey());
  return tls.createSecureContext({ key, cert });
}

export interface TlsAlpnHooks {
  /** The server's ALPNCallback: `acme-tls/1` for a pending validation, else h2, then http/1.1. */
  select(socket: unknown, servername: string | undefined, protocols: readonly string[]): string | undefined;
  /** In the SNICallback: the validation certificate when this handshake chose `acme-tls/1`, else null. */
  contextFor(socket: unknown, servername: string): SecureContext | null;
}

/** ALPN and certificate choice for an https listener whose stack may have validations pending. */
export function tlsAlpnHooks(challenges: AcmeChallenges): TlsAlpnHooks {
  // Handshakes (their TLSSockets) that negotiated acme-tls/1 before the certificate was picked, and
  // those whose certificate was picked first (TLS 1.2). Weak: a socket leaves with its connection.
  const validating = new WeakSet<object>();
  const certified = new WeakSet<object>();
  return {
    select(socket, servername, protocols) {
      if (protocols.includes(ACME_TLS_1) && isSocket(socket) && !certified.has(socket) && servername !== undefined && challenges.validationFor(servername) !== undefined) {
        validating.add(socket);
        // §3: the handshake is all this connection is for. Destroyed as it completes, the socket is
        // never announced as 'secureConnection', so neither h2 nor HTTP/1.1 ever reads from it.
        socket.prependOnceListener('secure', () => socket.destroy());
        return ACME_TLS_1;
      }
      // node:http2's own choice (server preference, RFC 7301 §3.2); no overlap: no_application_protocol.
      return protocols.includes('h2') ? 'h2' : protocols.includes('http/1.1') ? 'http/1.1' : undefined;
    },
    contextFor(socket, servername) {
      if (!isSocket(socket)) return null;
      if (validating.has(socket)) return challenges.validationFor(servername) ?? null;
      if (challenges.validationCount > 0) certified.add(socket);
      return null;
    },
  };
}

function isSocket(value: unknown): value is TLSSocket {
  return typeof value === 'object' && value !== null && typeof (value as TLSSocket).prependOnceListener === 'function';
}
