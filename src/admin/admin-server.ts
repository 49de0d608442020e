// The admin API that `portico status` / `portico reload` talk to. On a unix socket by default
// (file permissions are the access control); on TCP, a bearer token is required for any address
// other than loopback (checked by config validation) and always verified when configured.
import http from 'node:http';
import { unlink } from 'node:fs/promises';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parsePurgeRequest } from '../cache/purge-request.ts';
import type { PurgeRequest } from '../cache/http-cache.ts';

export interface AdminHandlers {
  /** May be async (`processes` > 1 asks every data-plane process); a throw or rejection answers 500. */
  status(): unknown;
  routes(): unknown;
  reload(): Promise<unknown>;
  /** Drains a pool's server (no new requests, in-flight ones finish) or puts it back. */
  setDraining?(pool: string, server: string, draining: boolean): 'ok' | 'no-pool' | 'no-server';
  /** Forgets cached responses by URL, prefix or tag (src/cache); resolves to how many. */
  purgeCache?(what: PurgeRequest): Promise<number>;
}

// POST /pools/<pool>/servers/<server>/drain|undrain; <server> is the address (`host:port`,
// `unix:/path`) or url, percent-encoded since it may hold "/".
const DRAIN = /^\/pools\/([^/]+)\/servers\/([^/]+)\/(drain|undrain)$/;

export interface AdminListen {
  socket?: string;
  host?: string;
  port?: number;
  token?: string;
}

export async function startAdminServer(listen: AdminListen, handlers: AdminHandlers): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      const text = JSON.stringify(body, null, 2) + '\n';
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (listen.token !== undefined && !tokenMatches(req.headers.authorization, listen.token)) {
      return reply(401, { error: 'admin token required (Authorization: Bearer …)' });
    }
    const route = `${req.method} ${req.url}`;
    if (route === 'GET /status') {
      // A sync throw lands in the same rejection: 500 with the reason, never an uncaught exception.
      Promise.resolve().then(() => handlers.status()).then((body) => reply(200, body), (err: Error) => reply(500, { error: `status failed: ${err.message}` }));
      return;
    }
    if (route === 'GET /routes') return reply(200, handlers.routes());
    const drain = req.method === 'POST' && handlers.setDraining !== undefined ? DRAIN.exec(req.url ?? '') : null;
    if (drain !== null && handlers.setDraining !== undefined) {
      let pool: string;
      let target: string;
      try {
        pool = decodeURIComponent(drain[1]);
        target = decodeURIComponent(drain[2]);
      } catch {
        return reply(400, { error: 'bad percent-encoding in the pool or server name' });
      }
      const draining = drain[3] === 'drain';
      const result = handlers.setDraining(pool, target, draining);
      if (result === 'no-pool') return reply(404, { ok: false, error: `unknown pool "${pool}"` });
      if (result === 'no-server') return reply(404, { ok: false, error: `pool "${pool}" has no server "${target}"` });
      return reply(200, { ok: true, pool, server: target, draining });
    }
    if (route === 'POST /cache/purge' && handlers.purgeCache !== undefined) {
      const purge = handlers.purgeCache;
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => { text += d; if (text.length > 65_536) req.destroy(); });
      req.on('end', () => {
        const what = parsePurgeRequest(text);
        if (typeof what === 'string') return reply(400, { ok: false, error: what });
        purge(what).then((purged) => reply(200, { ok: true, purged }), (err: Error) => reply(500, { ok: false, error: err.message }));
      });
      return;
    }
    if (route === 'POST /reload') {
      handlers.reload().then(
        (r) => reply(200, { ok: true, ...(r as object) }),
        (err: Error) => reply(422, { ok: false, error: err.message }),
      );
      return;
    }
    reply(404, { error: `unknown admin endpoint ${route}`, endpoints: ['GET /status', 'GET /routes', 'POST /reload', 'POST /pools/<pool>/servers/<server>/drain', 'POST /pools/<pool>/servers/<server>/undrain', 'POST /cache/purge'] });
  });
  if (listen.socket !== undefined) await unlink(listen.socket).catch(() => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = () => { server.off('error', reject); resolve(); };
    if (listen.socket !== undefined) server.listen(listen.socket, done);
    else server.listen({ host: listen.host ?? '127.0.0.1', port: listen.port ?? 0 }, done);
  });
  return server;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const a = Buffer.from(header.slice(7));
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function adminAddress(server: http.Server): string {
  const a = server.address();
  return typeof a === 'string' ? `unix:${a}` : `http://${(a as AddressInfo).address}:${(a as AddressInfo).port}`;
}
