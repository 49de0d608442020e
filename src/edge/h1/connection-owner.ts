// What one portico-engine connection needs from its listener (h1-server.ts): the runtime and rules,
// the listener's state, and where upgraded sockets and the Date value come from.
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { EdgeRuntime, EdgeRules } from '../request-mapping.ts';
import type { H1Connection } from './h1-connection.ts';
import type { RequestHeadParser } from './request-head.ts';

/** What the upgrade path (src/proxy/upgrade.ts) reads of a request: the fields node's IncomingMessage has. */
export interface H1UpgradeRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly httpVersion: string;
  readonly socket: Socket;
}

export interface ConnectionOwner {
  readonly runtime: EdgeRuntime;
  readonly rules: EdgeRules;
  /** Set once the listener is closing: the response in flight is the connection's last. */
  readonly closing: boolean;
  /** The scheme of the connections (https: TLS sockets handed over by the HTTPS listener). */
  readonly scheme: 'http' | 'https';
  /**
   * One head parser for every connection of the listener, so an idle connection holds none
   * (docs/idle-memory.md). Safe to share: parse() reads a head from its first byte on every call
   * (no state carries over between calls) and a connection consumes its results synchronously,
   * before any other connection's data can be handled.
   */
  readonly parser: RequestHeadParser;
  /** Bytes of head read before it is parsed (and refused) without waiting for its line to end. */
  readonly maxHead: number;
  /** The connection has ended (or was upgraded): no more sweeps for it. */
  forget(connection: H1Connection): void;
  /** The current IMF-fixdate for `Date` (RFC 9110 §6.6.1), built at most once a second. */
  date(): string;
  /**
   * Whether anyone takes upgrades; if not, an upgrade request is served as an ordinary one, its
   * Upgrade ignored (RFC 9110 §7.8 lets a server ignore it).
   */
  acceptsUpgrades(): boolean;
  /** Takes over an upgrade request's socket, with the bytes read past its head (node:http's 'upgrade' shape). */
  upgrade(req: H1UpgradeRequest, socket: Socket, head: Buffer): void;
}
