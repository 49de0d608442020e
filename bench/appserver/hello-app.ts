// The hello-world handler every contender runs: a bare Node listener, so the same code serves
// under Portico (direct and behind the data plane), node:cluster and pm2.
import type { IncomingMessage, ServerResponse } from 'node:http';

const BODY = Buffer.from('hello world\n');

export default function hello(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  res.end(BODY);
}
