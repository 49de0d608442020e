// The floor of the `proxy` scenario: the least work a Node proxy on the public `net` API can do per
// request, to show in every run how much of the gap to nginx is Node's and how much is Portico's.
// It is not a contender and must never be used as a proxy: GET and HEAD only, no field checks, no
// X-Forwarded-*, no timeouts, no layers, the upstream's head passed through unread but for its
// Content-Length. What it keeps is what any proxy must do: one keep-alive upstream connection per
// request in flight, the shared-read-buffer upstream reads Portico uses (net `onread`), a copy of
// what leaves the shared buffer, and backpressure for large bodies.
//   node bench/peers/net-floor.ts --port P --origin http://127.0.0.1:O
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, origin: { type: 'string' } } });
const origin = new URL(values.origin!);
const HEAD_END = Buffer.from('\r\n\r\n');
const READ = Buffer.allocUnsafe(64 * 1024);

/** One upstream connection: it carries one client's request at a time. */
class Upstream {
  readonly socket: net.Socket;
  client: net.Socket | null = null;
  private head: Buffer | null = null;
  private remaining = -1;
  /** HEAD: the Content-Length announces a body that never comes. */
  private bodiless = false;

  constructor() {
    const onread = { buffer: READ, callback: (n: number, buf: Uint8Array): boolean => { this.onData((buf as Buffer).subarray(0, n)); return true; } };
    this.socket = net.connect({ host: origin.hostname, port: Number(origin.port), noDelay: true, onread });
    this.socket.on('error', () => {});
    // Closed by the origin: never handed out again, and a client waiting on it learns at once.
    this.socket.on('close', () => {
      const i = idle.indexOf(this);
      if (i !== -1) idle.splice(i, 1);
      this.client?.destroy();
    });
  }

  send(client: net.Socket, method: string, head: string): void {
    this.client = client;
    this.bodiless = method === 'HEAD';
    this.head = null;
    this.remaining = -1;
    this.socket.write(head, 'latin1');
  }

  /** `view` is the shared read buffer: whatever leaves this call is copied. */
  private onData(view: Buffer): void {
    const client = this.client;
    if (client === null) return;
    let out = view;
    if (this.remaining === -1) {
      const buf = this.head === null ? view : Buffer.concat([this.head, view]);
      const end = buf.indexOf(HEAD_END);
      if (end === -1) {
        this.head = Buffer.from(buf);
        return;
      }
      const cl = /\r\ncontent-length: *(\d+)/i.exec(buf.toString('latin1', 0, end));
      this.remaining = (cl === null || this.bodiless ? 0 : Number(cl[1])) + end + 4;
      out = buf;
    }
    const n = Math.min(this.remaining, out.length);
    this.remaining -= n;
    const ok = client.write(Buffer.from(out.subarray(0, n)));
    if (this.remaining === 0) {
      this.client = null;
      idle.push(this);
      (client as FloorClient).busy = false;
    } else if (!ok) {
      this.socket.pause();
      client.once('drain', () => this.socket.resume());
    }
  }
}

type FloorClient = net.Socket & { busy: boolean; waiting: Buffer | null };
const idle: Upstream[] = [];

net.createServer({ noDelay: true }, (socket) => {
  const client = socket as FloorClient;
  client.busy = false;
  client.waiting = null;
  client.on('error', () => {});
  client.on('data', (chunk: Buffer) => {
    const buf = client.waiting === null ? chunk : Buffer.concat([client.waiting, chunk]);
    const end = buf.indexOf(HEAD_END);
    if (end === -1 || client.busy) {
      client.waiting = buf; // wrk never pipelines; a second request waits for the first (not handled further)
      return;
    }
    client.waiting = null;
    const line = buf.toString('latin1', 0, buf.indexOf(13));
    const [method, target] = line.split(' ');
    if (method !== 'GET' && method !== 'HEAD') {
      client.end('HTTP/1.1 501 Not Implemented\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    client.busy = true;
    (idle.pop() ?? new Upstream()).send(client, method, `${method} ${target} HTTP/1.1\r\nhost: ${origin.host}\r\n\r\n`);
  });
}).listen(Number(values.port), '127.0.0.1', () => process.stdout.write(`READY ${values.port}\n`));
