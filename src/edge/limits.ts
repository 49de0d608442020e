// Limits that keep abusive clients from costing the stack more than they are worth: sizes checked
// on each request head, connection counts checked on accept. Timeouts are handed to node:http,
// whose per-connection checks run on `connectionsCheckingInterval`.
import type { Server, Socket } from 'node:net';
import { HeaderFieldsTooLargeError, UriTooLongError } from '../http/errors.ts';
import type { EdgeRequest } from './request-mapping.ts';

export interface EdgeLimits {
  /** ms for the whole request head (slowloris); node answers 408 and closes. */
  readonly headersTimeout: number;
  /** ms for the whole request, body included; 0 = none. */
  readonly requestTimeout: number;
  /** ms an idle keep-alive connection stays open. */
  readonly keepAliveTimeout: number;
  /** Bytes of request head (node's llhttp answers 431 past it). */
  readonly maxHeaderSize: number;
  /** Header fields per request: 431 past it. */
  readonly maxHeaderCount: number;
  /** Bytes of request target: 414 past it (RFC 9112 §3: 8000 octets recommended as a minimum to support). */
  readonly maxUrlLength: number;
  /** Open connections on the listener; past it new ones are closed at once. 0 = none. */
  readonly maxConnections: number;
  /** Open connections from one client address; past it new ones are closed at once. 0 = none. */
  readonly maxConnectionsPerIp: number;
  /** h2 SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2). */
  readonly maxConcurrentStreams: number;
}

/** nginx-like defaults: generous for real clients, small enough that abuse stays cheap. */
export const DEFAULT_LIMITS: EdgeLimits = {
  headersTimeout: 10_000,
  requestTimeout: 300_000,
  keepAliveTimeout: 5_000,
  maxHeaderSize: 16 * 1024,
  maxHeaderCount: 100,
  maxUrlLength: 8 * 1024,
  maxConnections: 10_000,
  maxConnectionsPerIp: 256,
  maxConcurrentStreams: 128,
};

/** How often node:http looks for connections past their timeouts: a fraction of the shortest one. */
export function checkingInterval(limits: EdgeLimits): number {
  return Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeout / 4)));
}

/** The error for a head over the per-request limits, or null. */
export function checkHead(req: EdgeRequest, url: string, limits: EdgeLimits): Error | null {
  // rawHeaders is [name, value, …].
  return checkHeadSize(url, req.rawHeaders.length / 2, limits);
}

/** The same check from the target and the number of fields (on h2 the four request pseudo-header fields count too). */
export function checkHeadSize(url: string, fields: number, limits: EdgeLimits): Error | null {
  if (url.length > limits.maxUrlLength) return new UriTooLongError(`request target longer than ${limits.maxUrlLength} bytes`);
  if (fields > limits.maxHeaderCount) return new HeaderFieldsTooLargeError(`more than ${limits.maxHeaderCount} header fields`);
  return null;
}

/**
 * Closes connections past the per-address limit as they arrive. Counted on the server that parses
 * HTTP, so behind the PROXY protocol the address is the client's, not the balancer's. (The overall
 * limit is `maxConnections` on the listening server, enforced by node:net on accept.)
 */
export function limitConnections(server: Server, limits: EdgeLimits): void {
  if (limits.maxConnectionsPerIp <= 0) return;
  const perIp = new Map<string, number>();
  // One listener for every socket of the server, not a once() wrapper and closure per connection
  // (docs/idle-memory.md): the address is read again at close, where net.Socket has kept it.
  function counted(this: Socket): void {
    const ip = this.remoteAddress ?? '';
    const left = (perIp.get(ip) ?? 1) - 1;
    if (left === 0) perIp.delete(ip);
    else perIp.set(ip, left);
  }
  server.on('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? '';
    const open = (perIp.get(ip) ?? 0) + 1;
    if (open > limits.maxConnectionsPerIp) {
      socket.destroy();
      return;
    }
    perIp.set(ip, open);
    socket.on('close', counted);
  });
}
