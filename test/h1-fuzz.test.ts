// A bounded fuzz of the portico engine (fixed seed, 2,000 mutations of valid requests): the
// process never crashes, every connection is answered or closed within a deadline, and no request
// reaches a handler on portico that node:http's llhttp (same limits) would not deliver the same way.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Server } from 'node:net';
import type { Handler } from '../src/http/types.ts';
import { DEFAULT_LIMITS } from '../src/edge/limits.ts';
import { trustedPeers } from '../src/edge/trusted-peers.ts';
import { createHttpListener } from '../src/edge/http-listener.ts';
import { createH1Server } from '../src/edge/h1/h1-server.ts';
import { exchange } from './helpers/raw-http.ts';

const MUTATIONS = 2_000;
const BATCH = 200;
const limits = { ...DEFAULT_LIMITS, headersTimeout: 300, requestTimeout: 1_000, keepAliveTimeout: 300, maxHeaderSize: 4096, maxUrlLength: 1024 };

/** mulberry32: small, seedable, good enough to pick mutations reproducibly. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  'GET /a?b=1 HTTP/1.1\r\nHost: shop.test\r\nAccept: */*\r\nCookie: a=1\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello',
  'PUT /c HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n1\r\n!\r\n0\r\nT: 1\r\n\r\n',
  'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nokGET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
  'POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc',
];
const INTERESTING = [13, 10, 32, 9, 58, 0, 0x7f, 0xff, 44, 59, 0x30, 0x66, 0x2d, 0x2b, 0x22, 0x3f, 0x23];

function mutate(rand: () => number): Buffer {
  const buf = [...Buffer.from(SEEDS[Math.floor(rand() * SEEDS.length)], 'latin1')];
  const count = 1 + Math.floor(rand() * 3);
  for (let k = 0; k < count; k++) {
    const at = Math.floor(rand() * buf.length);
    const pick = rand();
    const byte = rand() < 0.7 ? INTERESTING[Math.floor(rand() * INTERESTING.length)] : Math.floor(rand() * 256);
    if (pick < 0.3) buf[at] = byte;
    else if (pick < 0.6) buf.splice(at, 0, byte);
    else if (pick < 0.8) buf.splice(at, 1);
    else if (pick < 0.9) buf.splice(at, 0, ...buf.slice(at, at + Math.floor(rand() * 24))); // repeat a slice
    else buf.length = at; // truncate
  }
  return Buffer.from(buf);
}

interface Delivered { method: string; target: string; headers: Record<string, string>; body: string | null }

/** A recording handler: what each client connection (by its port) got, body read whole. */
function recorder(): { handler: Handler; byPort: Map<number, Delivered[]> } {
  const byPort = new Map<number, Delivered[]>();
  const handler: Handler = async (req, ctx) => {
    const d: Delivered = { method: req.method, target: req.target, headers: { ...req.headers }, body: null };
    const list = byPort.get(ctx.clientPort) ?? [];
    list.push(d);
    byPort.set(ctx.clientPort, list);
    if (req.body !== null) {
      const parts: Buffer[] = [];
      try {
        for await (const c of req.body) parts.push(c as Buffer);
        d.body = Buffer.concat(parts).toString('latin1');
      } catch {
        d.body = '(error)';
      }
    } else d.body = '';
    return { status: 200, headers: {}, body: 'ok' };
  };
  return { handler, byPort };
}

const servers: Server[] = [];
after(() => { for (const s of servers) s.close(); });

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/** Runs one exchange and reports the client's local port, which the handler sees as clientPort. */
function run(port: number, bytes: Buffer): Promise<{ closed: boolean; localPort: number }> {
  let localPort = 0;
  return exchange(port, bytes, 4_000, undefined, (s) => (localPort = s.localPort ?? 0)).then((a) => ({ closed: a.closed, localPort }));
}

test('fuzz: 2,000 mutated requests: no crash, no hang, never looser than llhttp', { timeout: 180_000 }, async () => {
  const node = recorder();
  const portico = recorder();
  const trusted = trustedPeers([]);
  const nodePort = await listen(createHttpListener({ handler: node.handler, trusted }, { limits }));
  const porticoPort = await listen(createH1Server({ handler: portico.handler, trusted }, { policy: null, limits }).server);
  const rand = prng(0x9e3779b9);
  const inputs = Array.from({ length: MUTATIONS }, () => mutate(rand));
  let compared = 0;
  for (let i = 0; i < inputs.length; i += BATCH) {
    const batch = inputs.slice(i, i + BATCH);
    const results = await Promise.all(batch.map(async (bytes) => {
      const [n, p] = await Promise.all([run(nodePort, bytes), run(porticoPort, bytes)]);
      return { bytes, n, p };
    }));
    for (const { bytes, n, p } of results) {
      const what = JSON.stringify(bytes.toString('latin1'));
      assert.ok(p.closed, `portico left a connection open past the deadline: ${what}`);
      const got = portico.byPort.get(p.localPort) ?? [];
      const ref = node.byPort.get(n.localPort) ?? [];
      // Each request portico delivered must be one node delivered, in the same place, the same way.
      for (let k = 0; k < got.length; k++) {
        assert.ok(k < ref.length, `portico delivered request ${k + 1} that llhttp refused: ${what}`);
        const mine = got[k];
        const theirs = ref[k];
        assert.deepEqual({ ...mine, body: null }, { ...theirs, body: null }, `request ${k + 1} differs: ${what}`);
        if (mine.body !== '(error)') assert.equal(mine.body, theirs.body, `body of request ${k + 1} differs: ${what}`);
        compared++;
      }
    }
    // Client ports are reused across batches: each batch starts with empty records.
    node.byPort.clear();
    portico.byPort.clear();
  }
  assert.ok(compared > 200, `only ${compared} requests got through: the mutations are too destructive to test much`);
});
