// Rolling reloads: no request lost while generations swap, and broken code never replaces
// working code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'undici';
import { AppLoadError } from './index.ts';
import { call, callJson, fixture, isAlive, startTestApp, tempDir, waitFor } from './test-helpers.ts';

test('reload while a slow request is in flight: it completes, new requests reach the new workers, old ones exit', async (t) => {
  const { app } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 2 });
  const old = app.workers();
  const oldPids = old.map((w) => w.pid);
  const [a, b] = app.sockets();
  const slowClient = new Client('http://localhost', { socketPath: a });
  const idleClient = new Client('http://localhost', { socketPath: b });
  t.after(() => Promise.all([slowClient.destroy(), idleClient.destroy()]));
  // A kept-alive idle connection must not keep the old worker alive (nodejs/node#2642).
  await (await idleClient.request({ path: '/', method: 'GET' })).body.text();
  let slowDone = false;
  const slow = slowClient.request({ path: '/slow?ms=2000', method: 'GET' }).then(async (r) => {
    const body = await r.body.text();
    slowDone = true;
    return { status: r.statusCode, body, connection: r.headers.connection };
  });
  await waitFor('the slow request to reach the app', async () => (await callJson(a, '/stats')).inflight === 1);

  const changes: string[][] = [];
  app.on('change', (s: string[]) => changes.push(s));
  await app.reload();
  assert.equal(slowDone, false, 'the reload should finish while the slow request is still running');

  const fresh = app.sockets();
  assert.equal(fresh.length, 2);
  assert.ok(fresh.every((s) => s !== a && s !== b), 'new generation, new sockets');
  assert.deepEqual(changes, [fresh], 'one change, straight to the new sockets');
  assert.ok(app.workers().filter((w) => oldPids.includes(w.pid)).every((w) => w.state === 'draining'));
  for (const socket of fresh) {
    const { pid } = await callJson<{ pid: number }>(socket, '/');
    assert.ok(!oldPids.includes(pid), `request served by old worker ${pid}`);
  }
  assert.ok(app.workers().filter((w) => !oldPids.includes(w.pid)).every((w) => w.generation === 2 && w.state === 'ready'));

  const done = await slow;
  assert.equal(done.status, 200);
  assert.equal(JSON.parse(done.body).pid, oldPids[0]);
  assert.equal(done.connection, 'close', 'the draining worker closes the connection after the response');
  await waitFor('the master to see the old workers exit', () => app.workers().every((w) => !oldPids.includes(w.pid)));
  for (const pid of oldPids) assert.equal(isAlive(pid), false);
});

test('a reload with a broken module is refused and the old workers keep serving', async (t) => {
  const dir = tempDir(t);
  const module = join(dir, 'app.mjs');
  const version = (v: number) => `export default { fetch: () => Response.json({ version: ${v}, pid: process.pid }) };\n`;
  writeFileSync(module, version(1));
  const { app } = await startTestApp(t, { module, workers: 2 });
  const sockets = app.sockets();
  const pids = app.workers().map((w) => w.pid);
  let changes = 0;
  app.on('change', () => changes++);

  writeFileSync(module, "import 'node:fs';\nthrow new Error('v2 forgot its config');\nexport default {};\n");
  const err = await app.reload().then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof AppLoadError, `expected an AppLoadError, got ${String(err)}`);
  assert.match(err.message, /v2 forgot its config/);
  assert.equal(changes, 0);
  assert.deepEqual(app.sockets(), sockets);
  assert.deepEqual(app.workers().map((w) => w.pid), pids, 'only the canary was tried, and it is gone');
  for (const socket of sockets) assert.equal((await callJson(socket, '/')).version, 1);

  // Fixed code rolls out normally afterwards.
  writeFileSync(module, version(3));
  await app.reload();
  for (const socket of app.sockets()) assert.equal((await callJson(socket, '/')).version, 3);
  await waitFor('the version 1 workers to exit', () => pids.every((pid) => !isAlive(pid)));
});

test('concurrent reloads run one after the other and end on a single generation', async (t) => {
  const { app } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 2 });
  await Promise.all([app.reload(), app.reload()]);
  const serving = app.workers().filter((w) => w.state !== 'draining');
  assert.deepEqual(serving.map((w) => w.generation), [3, 3]);
  for (const socket of app.sockets()) assert.equal((await call(socket, '/')).status, 200);
});
