// Recycling: workers past maxRequests (with jitter) or maxMemory are replaced gracefully, the new
// worker ready before the old one leaves the pool; a failed replacement leaves the old one serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requestLimit } from './recycle.ts';
import { call, callJson, fixture, isAlive, startTestApp, tempDir, waitFor } from './test-helpers.ts';

test('maxRequests: the worker is replaced after its requests, gracefully and without counting as a crash', async (t) => {
  const { app, logs } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 2, maxRequests: 5 });
  const [w0, w1] = app.workers();
  const changes: string[][] = [];
  app.on('change', (s: string[]) => changes.push(s));
  for (let i = 0; i < 5; i++) assert.equal((await call(w0.socket, '/')).status, 200);
  const fresh = await waitFor('slot 0 to be recycled', () =>
    app.workers().find((w) => w.slot === 0 && w.pid !== w0.pid && w.state === 'ready'), 10_000);
  assert.equal(fresh.generation, 1, 'same code, same generation');
  assert.equal(fresh.restarts, 0, 'a recycle is not a crash');
  assert.notEqual(fresh.socket, w0.socket);
  assert.deepEqual(changes[0], [fresh.socket, w1.socket], 'the new worker took the slot in one step: never fewer than 2 in the pool');
  assert.equal((await callJson(fresh.socket, '/')).pid, fresh.pid);
  await waitFor('the recycled worker to exit', () => !isAlive(w0.pid));
  assert.equal(app.workers().find((w) => w.slot === 1)?.pid, w1.pid, 'the other worker is below its limit');
  assert.ok(logs.some((l) => l.msg === 'worker recycled' && l.fields.worker === w0.id));
  assert.match(String(logs.find((l) => l.msg.startsWith('recycling worker'))?.fields.reason), /served 5 requests \(maxRequests 5/);
});

test('maxRequestsJitter spreads each worker\'s limit over maxRequests..maxRequests+jitter', () => {
  const limits = Array.from({ length: 300 }, () => requestLimit({ maxRequests: 100, maxRequestsJitter: 10, maxMemory: 0 }));
  assert.ok(limits.every((l) => l >= 100 && l <= 110), String(limits));
  assert.ok(new Set(limits).size >= 5, 'the limits differ from worker to worker');
  assert.equal(requestLimit({ maxRequests: 0, maxRequestsJitter: 10, maxMemory: 0 }), Infinity);
});

test('maxMemory: a worker whose RSS grows past the limit is replaced', async (t) => {
  const { app, logs } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 1, maxMemory: 250 * 1024 * 1024 });
  const [old] = app.workers();
  assert.ok((await callJson<{ rss: number }>(old.socket, '/grow?mb=300')).rss > 250 * 1024 * 1024);
  const fresh = await waitFor('the worker to be recycled', () => app.workers().find((w) => w.pid !== old.pid && w.state === 'ready'), 10_000);
  assert.equal(fresh.restarts, 0);
  assert.match(String(logs.find((l) => l.msg.startsWith('recycling worker'))?.fields.reason), /^RSS \d+ bytes over maxMemory 262144000$/);
  await waitFor('the old worker to exit', () => !isAlive(old.pid));
  assert.equal((await call(fresh.socket, '/')).status, 200);
});

test('a replacement that cannot load leaves the old worker serving, and is not retried', async (t) => {
  const dir = tempDir(t);
  const module = join(dir, 'app.mjs');
  writeFileSync(module, 'export default { fetch: () => Response.json({ version: 1 }) };\n');
  const { app, logs } = await startTestApp(t, { module, workers: 1, maxRequests: 2 });
  const [w] = app.workers();
  writeFileSync(module, "throw new Error('half-deployed');\n");
  for (let i = 0; i < 2; i++) assert.equal((await call(w.socket, '/')).status, 200);
  const failed = await waitFor('the failed recycle', () => logs.find((l) => l.msg === 'recycling failed: the old worker keeps serving'), 10_000);
  assert.match(String(failed.fields.error), /half-deployed/);
  assert.equal((await callJson(w.socket, '/')).version, 1);
  assert.deepEqual(app.sockets(), [w.socket]);
  // More pongs come and go: no second attempt for the same worker.
  const attempts = () => logs.filter((l) => l.msg.startsWith('recycling worker')).length;
  await waitFor('two more heartbeats', async () => (await callJson(w.socket, '/')).version === 1 && app.workers()[0].requests >= 4, 5_000);
  assert.equal(attempts(), 1);
});
