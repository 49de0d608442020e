// The undici Pool for an `https://` server, with the SNI pinned to the pool's choice.
// Left alone, undici takes each request's SNI from its Host header (core/request.js:
// `servername || getServerName(host)`) and, when it changes, closes the connection to open one
// with the new name (client.js, "servername changed"). A proxy forwards many client Hosts to one
// server, so that would both send SNI the operator did not configure and churn connections.
// Here every request carries one constant key, and the connector sends the configured name (or
// none for an IP server without `tls.servername`, RFC 6066 §3).
import { Pool, buildConnector, type Dispatcher } from 'undici';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';

export interface TlsPoolOptions extends Pool.Options {
  /** Offer h2 by ALPN (undici `allowH2`). */
  allowH2?: boolean;
}

export class TlsPool extends Pool {
  readonly #key: string;

  /**
   * `tls` are node:tls client options (their `servername` is the SNI; absent = none);
   * `options.connect` may hold the connect timeout.
   */
  constructor(origin: URL, options: TlsPoolOptions, tls: TlsConnectionOptions) {
    const connectTimeout = (options.connect as { timeout?: number } | undefined)?.timeout;
    const connector = buildConnector({ ...tls, timeout: connectTimeout, allowH2: options.allowH2 === true } as buildConnector.BuildOptions);
    const servername = tls.servername ?? null;
    super(origin, {
      ...options,
      // The request-level name is only a constant key here; the real SNI is decided below.
      connect: (opts, callback) => connector({ ...opts, servername: servername as string }, callback),
    });
    this.#key = servername ?? origin.hostname;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return super.dispatch({ ...options, servername: this.#key } as Dispatcher.DispatchOptions, handler);
  }
}
