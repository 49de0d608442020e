// What a connection needs from its pool, and the pool's settings (from the pool config:
// connections, connectTimeout, timeout, bodyTimeout, keepAliveTimeout).
import type { Exchange } from './exchange.ts';

export interface H1PoolOptions {
  /** TCP host and port, or a unix socket path. */
  readonly connect: { readonly host: string; readonly port: number } | { readonly path: string };
  /** Host sent when the request has none (an HTTP/1.0 client): the server's authority. */
  readonly hostHeader: string;
  /** Open connections at most (idle + busy + connecting); further requests wait, FIFO. */
  readonly connections: number;
  readonly connectTimeout: number;
  /** ms without a byte while waiting for the response head (504 UPSTREAM_TIMEOUT). */
  readonly headersTimeout: number;
  /** ms without a body byte while the consumer is ready for more. */
  readonly bodyTimeout: number;
  /** ms an idle connection is kept; a server's shorter `Keep-Alive: timeout=` wins. */
  readonly keepAliveTimeout: number;
  /** Response head size limit; past it 502 (nginx: "upstream sent too big header"). */
  readonly maxHeadSize: number;
}

export interface ConnectionHost {
  readonly options: H1PoolOptions;
  /** The connection finished an exchange; `reusable` false when it is closing instead. */
  release(conn: ConnectionLike, reusable: boolean): void;
  /** The connection closed. */
  forget(conn: ConnectionLike): void;
  /** Sends an exchange; `fresh` skips idle connections (a resend after a stale one). */
  dispatch(ex: Exchange, fresh: boolean): void;
}

export interface ConnectionLike {
  readonly idle: boolean;
  send(ex: Exchange): void;
  destroy(): void;
}
