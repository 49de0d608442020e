// Graceful stop: in-flight requests finish, keep-alive connections close, new ones are refused,
// and the deadline cuts what runs past it — on both edge engines.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request, Agent } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { scriptedServer } from './helpers/servers.ts';
import { startStack } from './helpers/stack.ts';

for (const engine of ['node', 'portico'] as const) describe(`${engine} engine`, () => {
  test('stop() lets an in-flight request finish, then refuses new connections', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let arrived!: () => void;
    const inFlight = new Promise<void>((r) => (arrived = r));
    const upstream = await scriptedServer(async (req, res) => {
      if (req.url !== '/slow') return res.end('warm');
      arrived();
      await gate;
      res.end('finished');
    });
    const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, engine }], pools: { web: { servers: [{ url: upstream.url }] } }, routes: [{ path: '/', upstream: 'web' }], shutdownTimeout: '5s' });
    const agent = new Agent({ keepAliveTimeout: 60_000 });
    // A keep-alive connection that sits idle must not hold the stop open (nodejs/node#2642).
    const warm = await request(`${s.url}/warm`, { dispatcher: agent });
    await warm.body.text();
    const slow = request(`${s.url}/slow`, { dispatcher: agent });
    await inFlight;
    let stopped = false;
    const stopping = s.stack.stop(5000).then(() => (stopped = true));
    release();
    const res = await slow;
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), 'finished');
    await stopping;
    assert.ok(stopped);
    await assert.rejects(request(s.url + '/after', { dispatcher: new Agent() }), /ECONNREFUSED/);
    await agent.close();
    await upstream.close();
  });

  test('stop() cuts requests that outlive the shutdown timeout', async () => {
    const upstream = await scriptedServer(() => { /* never answers */ });
    const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, engine }], pools: { web: { servers: [{ url: upstream.url }] } }, routes: [{ path: '/', upstream: 'web' }] });
    const pending = request(`${s.url}/hang`).then((r) => r.statusCode, (e: Error) => e.message);
    await new Promise<void>((r) => upstream.server.once('request', () => r()));
    const t0 = Date.now();
    await s.stack.stop(300);
    assert.ok(Date.now() - t0 < 3000);
    const outcome = await pending;
    assert.ok(typeof outcome === 'string' || outcome >= 500, `got ${outcome}`);
    await upstream.close();
  });

  test('stop() cuts an open WebSocket tunnel at the deadline (node:http alone would wait out its idle timeout)', async () => {
    const upstream = await scriptedServer((_req, res) => res.end('plain'));
    const wss = new WebSocketServer({ server: upstream.server });
    wss.on('connection', (ws) => ws.send('hi'));
    const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, engine }], pools: { web: { servers: [{ url: upstream.url }] } }, routes: [{ path: '/', upstream: 'web' }] });
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/live`);
    await once(ws, 'message');
    const closed = once(ws, 'close');
    const t0 = Date.now();
    await s.stack.stop(300);
    assert.ok(Date.now() - t0 < 3000, `stop took ${Date.now() - t0} ms`);
    await closed;
    wss.close();
    await upstream.close();
  });
});
