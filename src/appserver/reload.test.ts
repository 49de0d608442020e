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
  assert.deepEqual(changes, [[fresh[0], b], fresh], 'one slot at a time: new worker in, old one out');
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

test('a new worker that fails mid-rollout stops it: rolled slots stay new, the rest keep their old workers', async (t) => {
  const dir = tempDir(t);
  const module = join(dir, 'app.mjs');
  writeFileSync(module, 'export default { fetch: () => Response.json({ version: 1 }) };\n');
  const { app, logs } = await startTestApp(t, { module, workers: 3 });
  const before = app.workers();
  // Version 2 loads in slot 0 (the canary passes) but not in slot 1.
  writeFileSync(module, [
    `const { slot } = JSON.parse(process.env.${'PORTICO_WORKER_CONFIG'});`,
    "if (slot === 1) throw new Error('slot 1 cannot reach its shard');",
    'export default { fetch: () => Response.json({ version: 2 }) };',
  ].join('\n'));
  const err = await app.reload().then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof AppLoadError, `expected an AppLoadError, got ${String(err)}`);
  assert.match(err.message, /cannot reach its shard/);
  const serving = app.workers().filter((w) => w.state === 'ready');
  assert.deepEqual(serving.map((w) => [w.slot, w.generation]), [[0, 2], [1, 1], [2, 1]]);
  assert.equal(serving[1].pid, before[1].pid);
  assert.equal(serving[2].pid, before[2].pid);
  assert.deepEqual(app.sockets().length, 3);
  assert.equal((await callJson(serving[0].socket, '/')).version, 2);
  for (const w of serving.slice(1)) assert.equal((await callJson(w.socket, '/')).version, 1);
  assert.ok(logs.some((l) => l.level === 'error' && l.msg.includes('reload stopped after 1 worker(s): 2 old worker(s) keep serving')));
  await waitFor('the replaced slot-0 worker to exit', () => !isAlive(before[0].pid));
});

test('concurrent reloads run one after the other and end on a single generation', async (t) => {
  const { app } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 2 });
  await Promise.all([app.reload(), app.reload()]);
  const serving = app.workers().filter((w) => w.state !== 'draining');
  assert.deepEqual(serving.map((w) => w.generation), [3, 3]);
  for (const socket of app.sockets()) assert.equal((await call(socket, '/')).status, 200);
});
