// The admin API that `portico status` / `portico reload` talk to. On a unix socket by default
// (file permissions are the access control); on TCP, a bearer token is required for any address
// other than loopback (checked by config validation) and always verified when configured.
import http from 'node:http';
import { unlink } from 'node:fs/promises';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface AdminHandlers {
  status(): unknown;
  routes(): unknown;
  reload(): Promise<unknown>;
}

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
    if (route === 'GET /status') return reply(200, handlers.status());
    if (route === 'GET /routes') return reply(200, handlers.routes());
    if (route === 'POST /reload') {
      handlers.reload().then(
        (r) => reply(200, { ok: true, ...(r as object) }),
        (err: Error) => reply(422, { ok: false, error: err.message }),
      );
      return;
    }
    reply(404, { error: `unknown admin endpoint ${route}`, endpoints: ['GET /status', 'GET /routes', 'POST /reload'] });
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
