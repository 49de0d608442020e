// The articles' "other sub-system": an older service written without Portico's framework (a bare
// Node listener), reached at /legacy/* with the prefix stripped, as nginx would route to a Django
// or Lambda part. It knows nothing of the prefix: its redirects name its own paths and origin,
// and the route's Location rewriting maps them back.
import type { IncomingMessage, ServerResponse } from 'node:http';

export default function legacy(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://legacy.internal');
  if (url.pathname === '/') {
    res.writeHead(302, { location: `http://${req.headers.host}/orders` });
    res.end();
    return;
  }
  if (url.pathname === '/orders') {
    const body = JSON.stringify({ system: 'legacy', orders: [{ id: 'A-1001', total: 41.5 }, { id: 'A-1002', total: 8.5 }] });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end(`legacy: no ${url.pathname}\n`);
}
