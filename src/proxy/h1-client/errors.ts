// Errors of Portico's own upstream client. Their `code`s are the ones src/proxy/retryable.ts and
// upstreamError() in src/proxy/forward.ts already classify for undici, so both clients fail alike:
// the same retry decisions and the same 502/504 codes. A malformed response is a BadGatewayError
// outright: it is never retried (the server may have acted) and never passed to the client.
import { BadGatewayError } from '../../http/errors.ts';

export class UpstreamClientError extends Error {
  readonly code: string;
  constructor(code: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'UpstreamClientError';
    this.code = code;
  }
}

export const CONNECT_TIMEOUT = 'UND_ERR_CONNECT_TIMEOUT';
export const HEADERS_TIMEOUT = 'UND_ERR_HEADERS_TIMEOUT';
export const BODY_TIMEOUT = 'UND_ERR_BODY_TIMEOUT';
/** The connection closed under an exchange (before or in the middle of the response). */
export const SOCKET_CLOSED = 'UND_ERR_SOCKET';
export const ABORTED = 'UND_ERR_ABORTED';
/** The pool was closed (server removed from its pool) while the request waited. */
export const CLOSED = 'UND_ERR_CLOSED';

/** RFC 9112 §6.3 rule 5 and §4: a response whose framing is in doubt is answered 502, connection closed. */
export function badResponse(reason: string, cause?: unknown): BadGatewayError {
  return new BadGatewayError(`invalid response from upstream: ${reason}`, 'UPSTREAM_BAD_RESPONSE', { cause });
}
