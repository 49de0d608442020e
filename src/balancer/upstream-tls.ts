// TLS towards `https://` servers: the pool's settings are read from their files once, when the
// pool's connections are set up, and turned into node:tls client options per server. The same
// options serve the undici pool (proxying), the health checks and WebSocket tunnels, so all three
// trust the same CAs, present the same client certificate and send the same SNI.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { ResolvedUpstreamTls } from '../config/resolved.ts';

/** A pool's TLS settings with the PEM files' contents. */
export interface UpstreamTlsSettings {
  readonly ca: readonly Buffer[] | null;
  readonly servername: string | null;
  readonly rejectUnauthorized: boolean;
  readonly cert: Buffer | null;
  readonly key: Buffer | null;
}

/** Reads the files named by the config; throws (naming the file) when one cannot be read. */
export function loadUpstreamTls(tls: ResolvedUpstreamTls): UpstreamTlsSettings {
  const read = (path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`cannot read upstream TLS file ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    ca: tls.ca.length === 0 ? null : tls.ca.map(read),
    servername: tls.servername,
    rejectUnauthorized: tls.rejectUnauthorized,
    cert: tls.cert === null ? null : read(tls.cert),
    key: tls.key === null ? null : read(tls.key),
  };
}

/**
 * The node:tls options for one server. SNI (RFC 6066 §3) and the name the certificate is checked
 * against are the configured `servername`, else the name the server was discovered from (DNS
 * discovery turns `https://api.internal:443` into address urls), else the url's host when it is a
 * name. An IP host without a servername sends no SNI and is checked against the certificate's IP
 * subjectAltNames (node's checkServerIdentity). `h2` puts h2 in the ALPN offer (health checks
 * read it; the undici connector and WebSocket tunnels set their own offer).
 */
export function serverTlsOptions(host: string, discoveredName: string | undefined, settings: UpstreamTlsSettings | null, h2 = false): TlsConnectionOptions {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const servername = settings?.servername ?? discoveredName ?? (isIP(bare) === 0 ? bare : undefined);
  const options: TlsConnectionOptions = { rejectUnauthorized: settings?.rejectUnauthorized ?? true };
  if (servername !== undefined) options.servername = servername;
  if (h2) options.ALPNProtocols = ['h2', 'http/1.1'];
  if (settings?.ca != null) options.ca = [...settings.ca];
  if (settings?.cert != null && settings.key !== null) {
    options.cert = settings.cert;
    options.key = settings.key;
  }
  return options;
}

/** Readable reasons for the node/OpenSSL codes a failed upstream handshake ends with. */
const TLS_REASONS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is signed by an unknown issuer (set the pool\'s tls.ca?)',
  UNABLE_TO_GET_ISSUER_CERT: 'its certificate is signed by an unknown issuer (set the pool\'s tls.ca?)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its certificate is signed by an unknown issuer (set the pool\'s tls.ca?)',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate chain ends in an untrusted self-signed CA (set the pool\'s tls.ca?)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed and not trusted (set the pool\'s tls.ca?)',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: 'its certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate does not name the host asked for (check the url or tls.servername)',
  CERT_REVOKED: 'its certificate is revoked',
  ERR_SSL_WRONG_VERSION_NUMBER: 'it does not speak TLS on that port (an http:// server?)',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'it does not trust our client certificate (tls.cert)',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'it requires a client certificate (set tls.cert and tls.key)',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'the handshake failed (no shared protocol or cipher, or a client certificate is required)',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'no TLS version in common',
};

/** When `err` is a failed TLS handshake or certificate check, why, in words; else null. */
export function tlsFailureReason(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  const reason = TLS_REASONS[code];
  if (reason !== undefined) return `${reason} [${code}]`;
  // Other OpenSSL alerts and verify errors keep their own code.
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || /^(CERT|UNABLE_TO|SELF_SIGNED|INVALID_CA|HOSTNAME)_/.test(code)) return `TLS failed [${code}]`;
  return null;
}
