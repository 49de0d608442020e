// An h2 request from node:http2's 'stream' event (the stream, its header object, its flags) onto
// the layer contract, as request-mapping.ts does for node:http and src/edge/h1 for the portico
// engine: client identity, host, request id, limits, expectations, host policy, then the handler.
import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { PorticoRequest, PorticoResponse } from '../../http/types.ts';
import { RequestContext, isAcceptableRequestId } from '../../http/context.ts';
import { HttpError, MethodNotAllowedError } from '../../http/errors.ts';
import type { EdgeRuntime, EdgeRules } from '../request-mapping.ts';
import { resolveClient } from '../trusted-peers.ts';
import { checkHeadSize } from '../limits.ts';
import { H2Exchange } from './stream-exchange.ts';
import { H2RequestBody } from './request-body.ts';
import { authorityHost, requestFields } from './request-fields.ts';

/** The session's peer, read once per connection (behind the PROXY protocol: the header's client). */
export interface H2Peer {
  readonly address: string;
  readonly port: number;
}

const ignore = (): void => {};

export function serveStream(runtime: EdgeRuntime, rules: EdgeRules, peer: H2Peer, stream: ServerHttp2Stream, raw: IncomingHttpHeaders, flags: number, rawHeaders: readonly string[]): void {
  // Already closed (a client that cancels at once, as in a rapid-reset flood, may get here after
  // its RST_STREAM was processed): nobody waits for an answer, so no layer runs.
  if (stream.destroyed || stream.closed) return;
  // A reset from the client destroys the stream with an error; the exchange's 'close' handles it.
  stream.on('error', ignore);
  const headers = requestFields(raw);
  const trusted = runtime.trusted;
  const peerTrusted = trusted.has(peer.address);
  // An untrusted peer is the client, without asking resolveClient.
  const client = peerTrusted ? resolveClient(peer.address, headers, trusted) : null;
  const sentId = headers['x-request-id'];
  const hostHeader = headers.host ?? '';
  const ctx = new RequestContext(peer.address, peerTrusted, client === null ? peer.address : client.address, peer.port, 'https',
    authorityHost(hostHeader), peerTrusted && isAcceptableRequestId(sentId) ? sentId : undefined);
  const edgeSlot = ctx.startTiming('edge', ctx.startedAt);
  const method = raw[':method'] ?? 'GET';
  const path = raw[':path'];
  const url = typeof path === 'string' ? path : '/';
  const q = url.indexOf('?');
  // h2 has no framing fields: a body follows unless HEADERS carried END_STREAM (RFC 9113 §8.1).
  const body = (flags & constants.NGHTTP2_FLAG_END_STREAM) === 0 && headers['content-length'] !== '0' ? new H2RequestBody(stream) : null;
  const req: PorticoRequest = {
    method,
    target: url,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers,
    body,
    httpVersion: '2.0',
  };
  const x = new H2Exchange(runtime, stream, req, ctx, edgeSlot, body);
  const refusal = refuse(method, url, headers.expect, rawHeaders.length / 2, rules);
  if (refusal !== null) {
    x.fail(refusal);
    return;
  }
  if (body !== null) {
    if (headers.expect !== undefined) body.expectContinue(() => x.sendContinue());
    if (rules.limits.requestTimeout > 0) x.limitBody(rules.limits.requestTimeout);
  }
  const policy = rules.policy;
  if (policy !== null) {
    // Redirects are answered here, before routing or any upstream sees the request. Behind a
    // trusted TLS terminator the client's scheme is the forwarded one: no redirect loop.
    const redirect = policy.redirect(method, client?.proto ?? 'https', ctx.host, hostHeader, url);
    if (redirect !== null) {
      x.send({ status: redirect.status, headers: { location: redirect.location, 'content-type': 'text/plain' }, body: `Redirecting to ${redirect.location}\n` });
      return;
    }
    x.hsts = policy.hsts(ctx.host);
  }
  let result: PorticoResponse | Promise<PorticoResponse>;
  try {
    result = runtime.handler(req, ctx);
  } catch (err) {
    x.fail(err);
    return;
  }
  if (result instanceof Promise) result.then((r) => x.send(r), (err: unknown) => x.fail(err));
  else x.send(result);
}

/** What the edge answers before any layer: head limits, CONNECT, expectations it cannot meet. */
function refuse(method: string, url: string, expect: string | undefined, fields: number, rules: EdgeRules): Error | null {
  // rawHeaders counts the four request pseudo-header fields too, as limits.maxHeaderCount expects.
  const tooLarge = checkHeadSize(url, fields, rules.limits);
  if (tooLarge !== null) return tooLarge;
  // RFC 9113 §8.5: CONNECT asks for a tunnel, which this edge does not offer (node's compat
  // layer answered it with 405 as well).
  if (method === 'CONNECT') return new MethodNotAllowedError('CONNECT is not supported');
  // RFC 9110 §10.1.1: 100-continue is the only expectation defined; any other MAY get 417, as on HTTP/1.1.
  if (expect !== undefined && expect.trim().toLowerCase() !== '100-continue') {
    return new HttpError(417, 'EXPECTATION_FAILED', `unsupported expectation "${expect.slice(0, 64)}"`);
  }
  return null;
}
