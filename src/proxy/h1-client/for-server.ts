// An H1Pool for one balancer server url (`http://host:port` or `unix:/path.sock`) from the pool's
// connection settings: the same knobs the undici Pool takes, so the two clients are interchangeable.
import { H1Pool } from './pool.ts';

export interface H1ConnectionSettings {
  readonly connections: number;
  readonly connectTimeout: number;
  readonly timeout: number;
  readonly bodyTimeout?: number;
  readonly keepAliveTimeout?: number;
}

/** Response heads past this are 502 (undici's default maxHeaderSize, nginx's proxy_buffer_size order). */
const MAX_HEAD = 16 * 1024;

export function h1PoolFor(url: string, o: H1ConnectionSettings): H1Pool {
  const common = {
    connections: o.connections,
    connectTimeout: o.connectTimeout,
    headersTimeout: o.timeout,
    bodyTimeout: o.bodyTimeout ?? o.timeout,
    keepAliveTimeout: o.keepAliveTimeout ?? 4_000,
    maxHeadSize: MAX_HEAD,
  };
  if (url.startsWith('unix:')) return new H1Pool({ ...common, connect: { path: url.slice(5) }, hostHeader: 'localhost' });
  const u = new URL(url);
  if (u.protocol !== 'http:') throw new Error(`the portico upstream client speaks cleartext HTTP/1.1 only, not ${u.protocol}`);
  // URL keeps IPv6 brackets in hostname; net.connect wants the bare address.
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return new H1Pool({ ...common, connect: { host, port: u.port === '' ? 80 : Number(u.port) }, hostHeader: u.host });
}
