// What an idle portico-engine connection keeps (docs/idle-memory.md): the same listener functions
// as every other socket, and nothing left over from the responses it has sent.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Readable } from 'node:stream';
import { DEFAULT_LIMITS } from '../limits.ts';
import { trustedPeers } from '../trusted-peers.ts';
import { createH1Server } from './h1-server.ts';
import { exchange, statuses } from '../../../test/helpers/raw-http.ts';

const closers: (() => void)[] = [];
after(() => { for (const c of closers) c(); });

test('idle connections share their socket listeners and keep none from streamed responses', async () => {
  const h1 = createH1Server({
    handler: (req) => ({ status: 200, headers: {}, body: req.path === '/s' ? Readable.from([Buffer.from('ab'), Buffer.from('cd')]) : 'whole' }),
    trusted: trustedPeers([]),
  }, { policy: null, limits: DEFAULT_LIMITS });
  await new Promise<void>((r) => h1.server.listen(0, '127.0.0.1', r));
  closers.push(() => { h1.closeAllConnections(); h1.server.close(); });
  const port = (h1.server.address() as net.AddressInfo).port;
  const sockets: net.Socket[] = [];
  h1.server.on('connection', (socket: net.Socket) => sockets.push(socket));
  // Streamed, whole, streamed: pipelined on one keep-alive connection, twice.
  const requests = 'GET /s HTTP/1.1\r\nHost: a\r\n\r\nGET /w HTTP/1.1\r\nHost: a\r\n\r\nGET /s HTTP/1.1\r\nHost: a\r\n\r\n';
  const seen: { drain: number; data: unknown[]; close: number }[] = [];
  for (let i = 0; i < 2; i++) {
    // Read on the server's socket once the last response has fully arrived: its connection is idle.
    const a = await exchange(port, requests, 2_000, (text) => {
      if (statuses(text).length < 3 || !text.endsWith('0\r\n\r\n')) return false;
      const s = sockets[i];
      seen.push({ drain: s.listenerCount('drain'), data: s.listeners('data'), close: s.listenerCount('close') });
      return true;
    });
    assert.deepEqual(statuses(a.text), [200, 200, 200]);
    assert.match(a.text, /\r\n\r\nwhole/);
    assert.equal(a.closed, false, 'kept alive');
  }
  assert.equal(seen.length, 2);
  for (const s of seen) {
    assert.equal(s.drain, 0, 'no drain listener outlives a streamed response');
    assert.equal(s.data.length, 1);
  }
  assert.equal(seen[0].data[0], seen[1].data[0], 'one data listener function for every socket');
  assert.equal(seen[0].close, seen[1].close, 'the same close listeners on each');
});
