// The balancer's failure answers, with stable codes (HAProxy's: 503 when nothing can serve,
// 503 when the queue is full, 504 when a request waited its whole queue timeout).
import { GatewayTimeoutError, ServiceUnavailableError } from '../http/errors.ts';

/** Every server is down or draining (RFC 9110 §15.6.4: Retry-After says when to come back). */
export class AllServersDownError extends ServiceUnavailableError {
  constructor(pool: string, retryAfter: number) {
    super(`no server available in pool "${pool}"`, 'NO_UPSTREAM', { headers: { 'retry-after': String(retryAfter) } });
  }
}

export class QueueFullError extends ServiceUnavailableError {
  constructor(pool: string, retryAfter: number) {
    super(`every server in pool "${pool}" is busy and its queue is full`, 'QUEUE_FULL', { headers: { 'retry-after': String(retryAfter) } });
  }
}

export class QueueTimeoutError extends GatewayTimeoutError {
  constructor(pool: string, waited: number) {
    super(`waited ${waited} ms in the queue of pool "${pool}" and no server became free`, 'QUEUE_TIMEOUT');
  }
}
