// What the proxy sends upstream: end-to-end fields only (RFC 9110 §7.6.1), plus the forwarded
// facts the edge resolved. Client-sent X-Forwarded-* are kept only when the peer is trusted
// (the edge decided the client address already), and we append the hop we saw.
import type { RequestHeaders } from '../http/types.ts';
import { HOP_BY_HOP, connectionOptions } from '../http/headers.ts';
import type { RequestContext } from '../http/context.ts';
import { forwardedElement, parseForwarded } from '../edge/forwarded.ts';

/** Never forwarded besides hop-by-hop: `expect` is answered by the edge (RFC 9110 §10.1.1). */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'expect']);

/**
 * Our Forwarded element for the last (peer, scheme, host) seen: on one route these rarely change
 * between requests, so the proxy keeps one of these per route handler and formats once per change.
 */
export class ForwardedMemo {
  private peer = '';
  private scheme = '';
  private host: string | undefined = undefined;
  private value = '';

  element(peer: string, scheme: string, host: string | undefined): string {
    if (peer !== this.peer || scheme !== this.scheme || host !== this.host || this.value === '') {
      this.peer = peer;
      this.scheme = scheme;
      this.host = host;
      this.value = forwardedElement(peer, scheme, host);
    }
    return this.value;
  }
}

export function upstreamRequestHeaders(headers: RequestHeaders, ctx: RequestContext, memo: ForwardedMemo | null = null): Record<string, string> {
  const peerTrusted = ctx.peerTrusted;
  const listed = headers['connection'] === undefined ? null : connectionOptions(headers['connection']);
  const out: Record<string, string> = {};
  for (const name in headers) {
    if (NOT_FORWARDED.has(name) || (listed !== null && listed.includes(name))) continue;
    out[name] = headers[name];
  }
  const priorXff = peerTrusted ? headers['x-forwarded-for'] : undefined;
  out['x-forwarded-for'] = priorXff ? `${priorXff}, ${ctx.peerAddress}` : ctx.peerAddress;
  if (!peerTrusted || out['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = ctx.scheme;
  if (!peerTrusted || out['x-forwarded-host'] === undefined) {
    if (headers['host'] !== undefined) out['x-forwarded-host'] = headers['host'];
  }
  // RFC 7239 §4: append our hop to a trusted chain; a client's own (or a malformed) one is replaced.
  const priorForwarded = peerTrusted ? headers['forwarded'] : undefined;
  const element = memo === null ? forwardedElement(ctx.peerAddress, ctx.scheme, headers['host']) : memo.element(ctx.peerAddress, ctx.scheme, headers['host']);
  out['forwarded'] = priorForwarded !== undefined && parseForwarded(priorForwarded) !== null ? `${priorForwarded}, ${element}` : element;
  out['x-real-ip'] = ctx.clientAddress;
  out['x-request-id'] = ctx.id;
  return out;
}
