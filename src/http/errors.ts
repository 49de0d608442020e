// Typed errors with a status and a stable code (undici's habit: codes never change once shipped,
// messages may). Layers throw them; src/http/error-response.ts is the one place that turns them
// into responses.

export interface HttpErrorOptions {
  /** Extra response headers, e.g. `Allow` for 405 or `Retry-After` for 503. */
  headers?: Record<string, string>;
  cause?: unknown;
  /** Whether the message is safe to show the client (true for 4xx by default). */
  expose?: boolean;
}

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string> | undefined;
  readonly expose: boolean;

  constructor(status: number, code: string, message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.headers = options.headers;
    this.expose = options.expose ?? (status < 500 || status === 502 || status === 503 || status === 504);
  }
}

type Opts = HttpErrorOptions;
const def = (status: number, fallbackCode: string) =>
  class extends HttpError {
    constructor(message: string, code: string = fallbackCode, options?: Opts) {
      super(status, code, message, options);
    }
  };

export class BadRequestError extends def(400, 'BAD_REQUEST') {}
export class UnauthorizedError extends def(401, 'UNAUTHORIZED') {}
export class ForbiddenError extends def(403, 'FORBIDDEN') {}
export class NotFoundError extends def(404, 'NOT_FOUND') {}
export class MethodNotAllowedError extends def(405, 'METHOD_NOT_ALLOWED') {}
export class RequestTimeoutError extends def(408, 'REQUEST_TIMEOUT') {}
export class PayloadTooLargeError extends def(413, 'PAYLOAD_TOO_LARGE') {}
export class UriTooLongError extends def(414, 'URI_TOO_LONG') {}
export class UnsupportedMediaTypeError extends def(415, 'UNSUPPORTED_MEDIA_TYPE') {}
export class RangeNotSatisfiableError extends def(416, 'RANGE_NOT_SATISFIABLE') {}
export class UnprocessableContentError extends def(422, 'UNPROCESSABLE_CONTENT') {}
export class TooManyRequestsError extends def(429, 'TOO_MANY_REQUESTS') {}
export class HeaderFieldsTooLargeError extends def(431, 'HEADER_FIELDS_TOO_LARGE') {}
export class InternalServerError extends def(500, 'INTERNAL') {}
export class BadGatewayError extends def(502, 'BAD_GATEWAY') {}
export class ServiceUnavailableError extends def(503, 'SERVICE_UNAVAILABLE') {}
export class GatewayTimeoutError extends def(504, 'GATEWAY_TIMEOUT') {}

export function isHttpError(err: unknown): err is HttpError {
  return err instanceof HttpError;
}
