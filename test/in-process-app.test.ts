// `apps.<name>.mode: 'in-process'` through the whole stack on real sockets: the app's fetch runs
// in the data-plane process, with the app server's failure answers (500 with the request id,
// 504 past the deadline, the signal aborted when the client leaves, 413 from maxBodySize).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { startStack, type TestStack } from './helpers/stack.ts';
import { waitFor } from './helpers/servers.ts';

const APP = fileURLToPath(new URL('./fixtures/apps/in-process-app.ts', import.meta.url));
const RELEASE = Symbol.for('portico.test.in-process.release');

type Engine = 'node' | 'portico';

async function start(t: { after(fn: () => unknown): void }, engine: Engine, app: Record<string, unknown> = {}, route: Record<string, unknown> = {}): Promise<TestStack> {
  const s = await startStack({
    listeners: [{ host: '127.0.0.1', port: 0, engine }],
    apps: { local: { module: APP, mode: 'in-process', ...app } },
    routes: [{ path: '/', app: 'local', ...route }],
  });
  t.after(() => s.close());
  return s;
}

async function stats(s: TestStack): Promise<{ waiting: number; aborted: number; neverAborted: number; neverReason: string; cancelled: number }> {
  const r = await request(`${s.url}/stats`);
  return await r.body.json() as never;
}

for (const engine of ['node', 'portico'] as const) describe(`${engine} engine`, () => {
  test('hello through the stack: the app runs in this process and sees what a worker would', async (t) => {
    const s = await start(t, engine, {}, { path: '/api', stripPrefix: true });
    const r = await request(`${s.url}/api/?q=1`, { headers: { accept: 'application/json' } });
    const body = await r.body.json() as Record<string, unknown>;
    assert.equal(r.statusCode, 200);
    assert.deepEqual(body, { path: '/?q=1', method: 'GET', requestId: r.headers['x-request-id'], forwardedFor: '127.0.0.1', isRequest: true });
    assert.match(String(r.headers['server-timing']), /\bapp;dur=/);
    assert.equal(r.headers['x-portico-worker'], undefined, 'no worker process answered');
    const status = s.stack.status() as { inProcessApps: Record<string, { generation: number; requests: number }>; apps: Record<string, unknown> };
    assert.equal(status.inProcessApps.local.generation, 1);
    assert.ok(status.inProcessApps.local.requests >= 1);
    assert.deepEqual(status.apps, {}, 'no worker master was started');
    // Both Set-Cookie fields survive (they cannot be joined: RFC 6265 §3).
    const c = await request(`${s.url}/api/cookies`);
    await c.body.text();
    assert.deepEqual(c.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/']);
  });

  test('a POST body streams to the app and back: the first chunk echoes before the second is sent', async (t) => {
    const s = await start(t, engine);
    const port = Number(new URL(s.url).port);
    const echoed = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/echo', headers: { 'content-type': 'text/plain' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
          // Only once the first chunk came back does the client send the rest.
          if (text === 'one,') req.end('two');
        });
        res.on('end', () => resolve(text));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.write('one,');
    });
    assert.equal(echoed, 'one,two');
  });

  test('a streamed response goes out before its body ends (no whole-body buffering)', async (t) => {
    const s = await start(t, engine);
    const port = Number(new URL(s.url).port);
    const text = await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/held-stream' }, (res) => {
        let got = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          got += d;
          if (got === 'first\n') (globalThis as unknown as Record<symbol, () => void>)[RELEASE]();
        });
        res.on('end', () => resolve(got));
      }).on('error', reject);
    });
    assert.equal(text, 'first\nsecond\n');
  });

  test('maxBodySize: 413 on a declared length before the app, and on a chunked body the app was reading', async (t) => {
    const s = await start(t, engine, {}, { maxBodySize: 10 });
    const declared = await request(`${s.url}/length`, { method: 'POST', body: 'x'.repeat(11) });
    await declared.body.text();
    assert.equal(declared.statusCode, 413);
    const small = await request(`${s.url}/length`, { method: 'POST', body: 'x'.repeat(10) });
    assert.equal(await small.body.text(), '10\n');
    const port = Number(new URL(s.url).port);
    const chunked = await new Promise<{ status: number; code: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/length' }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, code: String(res.headers['x-portico-error']) });
      });
      req.on('error', reject);
      req.write('x'.repeat(8));
      req.end('y'.repeat(8));
    });
    assert.deepEqual(chunked, { status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  test('an app that throws or returns no Response: 500 naming the request id, the error only in the log', async (t) => {
    const s = await start(t, engine);
    for (const path of ['/throw', '/not-response']) {
      const r = await request(`${s.url}${path}`);
      const body = await r.body.text();
      assert.equal(r.statusCode, 500, path);
      assert.equal(r.headers['x-portico-error'], 'APP_ERROR');
      assert.ok(body.includes(String(r.headers['x-request-id'])), body);
      assert.doesNotMatch(body, /boom|at file:/, 'no message or stack reaches the client');
    }
    await waitFor(() => s.logs.some((l) => l.includes('boom from the in-process app')), 'the error and its stack in the log');
    // The data plane is unharmed.
    assert.equal((await request(`${s.url}/`)).statusCode, 200);
  });

  test('an app that never answers: 504 APP_TIMEOUT after workerTimeout, and its signal aborts', async (t) => {
    const s = await start(t, engine, { workerTimeout: '300ms' });
    const before = await stats(s);
    const started = performance.now();
    const r = await request(`${s.url}/never`);
    await r.body.text();
    assert.equal(r.statusCode, 504);
    assert.equal(r.headers['x-portico-error'], 'APP_TIMEOUT');
    assert.ok(performance.now() - started >= 250, 'not before the deadline');
    const after = await stats(s);
    assert.equal(after.neverAborted, before.neverAborted + 1);
    assert.match(after.neverReason, /did not answer in time/);
  });

  test('a response body that stalls past workerTimeout is cut after what was sent, and logged', async (t) => {
    const s = await start(t, engine, { workerTimeout: '300ms' });
    const port = Number(new URL(s.url).port);
    const outcome = await new Promise<{ status: number; got: string; complete: boolean }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/stalled-stream', agent: false }, (res) => {
        let got = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (got += d));
        res.on('close', () => resolve({ status: res.statusCode ?? 0, got, complete: res.complete }));
      }).on('error', reject);
    });
    assert.deepEqual(outcome, { status: 200, got: 'first\n', complete: false });
    await waitFor(() => s.logs.some((l) => l.includes('sent no body bytes for 300 ms')), 'the cut in the log');
  });

  test('a client that goes away aborts the app\'s request signal', async (t) => {
    const s = await start(t, engine);
    const port = Number(new URL(s.url).port);
    const before = await stats(s);
    const socket = net.connect(port, '127.0.0.1');
    t.after(() => socket.destroy());
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write('GET /wait-abort HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await waitFor(async () => (await stats(s)).waiting === before.waiting + 1, 'the app to be waiting');
    socket.destroy();
    await waitFor(async () => (await stats(s)).aborted === before.aborted + 1, 'the app\'s signal to abort');
    assert.equal((await stats(s)).waiting, before.waiting);
    // Leaving during a streamed body cancels the app's stream.
    const reader = net.connect(port, '127.0.0.1');
    t.after(() => reader.destroy());
    reader.write('GET /ticking HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await new Promise<void>((resolve) => reader.once('data', () => resolve()));
    reader.destroy();
    await waitFor(async () => (await stats(s)).cancelled === before.cancelled + 1, 'the app\'s body stream to be cancelled');
  });
});

test('an unhandled rejection from the app is logged and the data plane keeps serving', async (t) => {
  // In a process of its own: node:test would count the rejection against this test process.
  const config = { listeners: [{ host: '127.0.0.1', port: 0 }], runtimeDir: mkdtempSync(join(tmpdir(), 'portico-test-')), apps: { local: { module: APP, mode: 'in-process' } }, routes: [{ path: '/', app: 'local' }] };
  const child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'stack-child.ts'), JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((r) => child.once('exit', r));
  t.after(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const port = await waitFor(() => /port=(\d+)/.exec(out)?.[1], 'the stack process');
  const r = await request(`http://127.0.0.1:${port}/reject-later`);
  assert.equal(await r.body.text(), 'ok\n');
  await waitFor(() => err.includes('forgotten rejection from the in-process app'), 'the rejection in the log');
  assert.match(err, /unhandled promise rejection/);
  const again = await request(`http://127.0.0.1:${port}/`);
  await again.body.text();
  assert.equal(again.statusCode, 200);
  assert.equal(child.exitCode, null, 'the data plane is still running');
});

test('a (req, res) listener module is refused in-process with the reason', async () => {
  const express = fileURLToPath(new URL('./fixtures/apps/express-app.ts', import.meta.url));
  await assert.rejects(
    startStack({ apps: { local: { module: express, mode: 'in-process' } }, routes: [{ path: '/', app: 'local' }] }),
    /mode 'in-process' runs `export default \{ fetch\(request\) \}` apps/,
  );
});

test('WebSocket upgrades on an in-process route are refused (no server to tunnel to)', async (t) => {
  const s = await start(t, 'node');
  const port = Number(new URL(s.url).port);
  const answer = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', headers: { connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', () => resolve(101));
    req.on('error', reject);
    req.end();
  });
  assert.equal(answer, 404);
});
