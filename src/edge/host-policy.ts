// Per-host answers the edge gives before any layer runs: http → https redirects, host
// canonicalisation (www ↔ apex) and Strict-Transport-Security on https responses. Compiled once
// per listener from its config; each request costs a Map lookup or two.

export interface HostPolicyConfig {
  /** On a cleartext listener: send clients to https on this port (443 is left out of the URL). */
  readonly redirectToHttps: { readonly port: number; readonly hosts: readonly string[] } | null;
  /** On an https listener (RFC 6797 §7.2: never over cleartext). */
  readonly hsts: { readonly maxAge: number; readonly includeSubDomains: boolean; readonly preload: boolean; readonly hosts: readonly string[] } | null;
  /** Alias host → canonical host, e.g. `www.example.com` → `example.com`. */
  readonly canonicalHosts: Readonly<Record<string, string>>;
}

export interface EdgeRedirect {
  readonly status: 301 | 308;
  readonly location: string;
}

export interface HostPolicy {
  /** A redirect to answer instead of running the layers, or null. `host` is lowercased, without port. */
  redirect(method: string, scheme: 'http' | 'https', host: string, hostHeader: string, target: string): EdgeRedirect | null;
  /** The Strict-Transport-Security value for an https response to `host`, or null. */
  hsts(host: string): string | null;
}

/** ACME HTTP-01 (RFC 8555 §8.3) must stay reachable over http, whatever else redirects. */
const ACME_CHALLENGE = '/.well-known/acme-challenge/';

/** `hosts` empty = every host; entries may be `*.example.com` (one or more labels, like routing). */
function hostMatcher(hosts: readonly string[]): (host: string) => boolean {
  if (hosts.length === 0) return () => true;
  const exact = new Set(hosts.filter((h) => !h.startsWith('*.')));
  const suffixes = hosts.filter((h) => h.startsWith('*.')).map((h) => h.slice(1));
  return (host) => exact.has(host) || suffixes.some((s) => host.endsWith(s) && host.length > s.length);
}

/** The port part of a Host header (`example.com:8080`, `[::1]:8080`), or ''. */
function portOf(hostHeader: string): string {
  const end = hostHeader.startsWith('[') ? hostHeader.indexOf(']') + 1 : 0;
  const colon = hostHeader.indexOf(':', end);
  return colon === -1 ? '' : hostHeader.slice(colon);
}

export function hostPolicy(config: HostPolicyConfig): HostPolicy | null {
  const { redirectToHttps, hsts } = config;
  const canonical = new Map(Object.entries(config.canonicalHosts));
  if (redirectToHttps === null && hsts === null && canonical.size === 0) return null;
  const redirectsHost = redirectToHttps === null ? () => false : hostMatcher(redirectToHttps.hosts);
  const httpsPort = redirectToHttps === null || redirectToHttps.port === 443 ? '' : `:${redirectToHttps.port}`;
  const hstsFor = hsts === null ? () => false : hostMatcher(hsts.hosts);
  // RFC 6797 §6.1: max-age in seconds; preload needs includeSubDomains (hstspreload.org's rule).
  const hstsValue = hsts === null ? '' : `max-age=${hsts.maxAge}${hsts.includeSubDomains ? '; includeSubDomains' : ''}${hsts.preload ? '; preload' : ''}`;
  return {
    redirect(method, scheme, host, hostHeader, target) {
      if (host === '') return null; // HTTP/1.0 without Host: nowhere to send it
      const toCanonical = canonical.get(host);
      const toHttps = scheme === 'http' && redirectsHost(toCanonical ?? host) && !target.startsWith(ACME_CHALLENGE);
      if (toCanonical === undefined && !toHttps) return null;
      // One hop: http://www.example.com → https://example.com directly.
      const newHost = toCanonical ?? host;
      const port = toHttps ? httpsPort : portOf(hostHeader);
      // Absolute-form and `*` targets (RFC 9112 §3.2.2, §3.2.4) have no path to keep: send them to "/".
      const path = target.startsWith('/') ? target : '/';
      // 301 lets clients turn a POST into a GET; 308 keeps the method and body (RFC 9110 §15.4.2, §15.4.9).
      const status = method === 'GET' || method === 'HEAD' ? 301 : 308;
      return { status, location: `${toHttps ? 'https' : scheme}://${newHost}${port}${path}` };
    },
    hsts(host) {
      return hstsValue !== '' && hstsFor(host) ? hstsValue : null;
    },
  };
}
