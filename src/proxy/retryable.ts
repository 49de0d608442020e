// Which failed attempts may go to another server. Repeating a request is safe when the server
// cannot have acted on it: the connection was never made; or the method is idempotent
// (RFC 9110 §9.2.2) and the connection died before any response byte, with no body sent that
// could not be sent again (RFC 9110 §9.2.2 and RFC 9112 §9.3.1 allow retrying these). A request
// whose body was read, even in part, is never retried: that body is gone.
import type { PorticoRequest } from '../http/types.ts';
import { tlsFailureReason } from '../balancer/upstream-tls.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const CONNECT_FAILED = new Set(['ECONNREFUSED', 'ENOENT', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const CLOSED_EARLY = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

export function isRetryable(err: unknown, req: PorticoRequest): boolean {
  const code = (err as { code?: string }).code;
  if (code === undefined) return false;
  const body = req.body;
  const bodyUntouched = body === null || (!body.readableDidRead && !body.destroyed);
  if (!bodyUntouched) return false;
  // A failed TLS handshake is a connection never made: no request byte was sent (nginx's
  // proxy_next_upstream `error` covers it too); another server may well have a good certificate.
  if (CONNECT_FAILED.has(code) || tlsFailureReason(err) !== null) return true;
  return CLOSED_EARLY.has(code) && IDEMPOTENT.has(req.method);
}
