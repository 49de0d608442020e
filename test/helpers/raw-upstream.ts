// Test helper for src/proxy/h1-client: raw-socket upstreams that answer each request head with
// whatever bytes a test scripts, and a pool of the own client pointed at them. Everything made is
// closed by the kit's close(), which each test file runs after its tests.
import net from 'node:net';
import type { Readable } from 'node:stream';
import { h1PoolFor } from '../../src/proxy/h1-client/for-server.ts';
import type { H1Pool, UpstreamResponse } from '../../src/proxy/h1-client/pool.ts';

export interface RawUpstream {
  port: number;
  /** Connections accepted so far, and how many have closed. */
  accepted: number;
  closed: number;
  /** Most connections open at once. */
  peak: number;
  /** Every request head received, in order. */
  heads: string[];
  /** Every byte each connection received, by connection. */
  raw: string[];
}

export interface PoolKnobs {
  connections: number;
  timeout: number;
  bodyTimeout: number;
  keepAliveTimeout: number;
}

/** A 200 with a Content-Length body. */
export const ok = (body: string, extra = '') => `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;

/** The whole body of a response, as latin1 text. */
export async function text(res: UpstreamResponse): Promise<string> {
  const body = res.body;
  if (body === null) return '';
  if (Buffer.isBuffer(body)) return body.toString('latin1');
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('latin1');
}

export function get(p: H1Pool, path = '/', method = 'GET', init: { body?: Readable; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<UpstreamResponse> {
  return p.request({ method, path, headers: { host: 'example.test', ...init.headers }, body: init.body ?? null, signal: init.signal ?? null });
}

export function upstreamKit() {
  const closers: (() => unknown)[] = [];
  /**
   * A server that calls `answer` for each request head on a connection (`n` counts per connection).
   * Request bodies are not read apart: tests that send bodies use a node:http server instead.
   */
  async function rawUpstream(answer: (socket: net.Socket, head: string, n: number) => void): Promise<RawUpstream> {
    const state: RawUpstream = { port: 0, accepted: 0, closed: 0, peak: 0, heads: [], raw: [] };
    let open = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      state.accepted++;
      state.peak = Math.max(state.peak, ++open);
      sockets.add(socket);
      const index = state.raw.push('') - 1;
      let buf = '';
      let n = 0;
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => {
        state.raw[index] += d;
        buf += d;
        for (let end = buf.indexOf('\r\n\r\n'); end !== -1; end = buf.indexOf('\r\n\r\n')) {
          const head = buf.slice(0, end);
          buf = buf.slice(end + 4);
          state.heads.push(head);
          answer(socket, head, n++);
        }
      });
      socket.on('error', () => {});
      socket.on('close', () => { open--; state.closed++; sockets.delete(socket); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    state.port = (server.address() as net.AddressInfo).port;
    closers.push(() => { for (const s of sockets) s.destroy(); return new Promise((r) => server.close(r)); });
    return state;
  }

  function pool(port: number, o: Partial<PoolKnobs> = {}): H1Pool {
    const p = h1PoolFor(`http://127.0.0.1:${port}`, { connections: 4, connectTimeout: 2_000, timeout: 5_000, ...o });
    closers.push(() => p.close());
    return p;
  }

  return {
    rawUpstream,
    pool,
    /** Runs `fn` at close (servers the test made itself). */
    defer: (fn: () => unknown) => void closers.push(fn),
    close: async () => { for (const c of closers.reverse()) await c(); },
  };
}
