// HTTP/1.x requests node's llhttp parses but Portico refuses before any layer sees them (the portico
// engine refuses the same ones in its own parser, src/edge/h1/request-head.ts), and the mark that
// keeps a connection's later pipelined requests from running once one was refused for its framing.
import type http from 'node:http';
import type { Socket } from 'node:net';
import { BadRequestError, HttpError } from '../http/errors.ts';
import type { RequestHeaders } from '../http/types.ts';

/** The refusal for a request llhttp let through, or null. Called for HTTP/1.x requests only. */
export function requestFault(req: http.IncomingMessage, headers: RequestHeaders): HttpError | null {
  // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means its framing is faulty (an
  // HTTP/1.0 hop before us may have framed it differently): refuse it and close the connection.
  // llhttp decodes it as chunked and reads on, so the bytes after it could smuggle a request.
  if (req.httpVersionMinor === 0 && headers['transfer-encoding'] !== undefined) {
    return new BadRequestError('Transfer-Encoding in an HTTP/1.0 request', 'BAD_FRAMING');
  }
  // RFC 9112 §3.2: more than one Host line is a 400. node joins them ("a, b", joinDuplicateHeaders)
  // or keeps the first, and the proxy would forward a Host the routing did not decide on.
  const host = headers.host;
  if (host !== undefined && hostLines(req.rawHeaders) > 1) return new BadRequestError('more than one Host header field', 'BAD_FRAMING');
  // RFC 9110 §10.1.1: 100-continue is the only expectation defined; any other MAY get 417. node
  // routes those here only when the listener handles `checkExpectation`; an HTTP/1.0 request's
  // Expect is ignored (node never checks it), as the RFC requires for 100-continue.
  const expect = headers.expect;
  if (expect !== undefined && req.httpVersionMinor >= 1 && expect.trim().toLowerCase() !== '100-continue') {
    return new HttpError(417, 'EXPECTATION_FAILED', `unsupported expectation "${expect.slice(0, 64)}"`);
  }
  return null;
}

function hostLines(raw: string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 4 && (name === 'Host' || name.toLowerCase() === 'host')) n++;
  }
  return n;
}

const REFUSED: unique symbol = Symbol('portico.framingRefused');
type Marked = Socket & { [REFUSED]?: true };

/**
 * After a refusal for framing, llhttp still parses what follows on the connection and node emits
 * those requests while the 400 is being written; none of them may reach a layer (RFC 9112 §6.1:
 * close the connection; nothing after the faulty request is trusted).
 */
export function markRefused(socket: Socket): void {
  (socket as Marked)[REFUSED] = true;
}

export function wasRefused(socket: Socket): boolean {
  return (socket as Marked)[REFUSED] === true;
}
