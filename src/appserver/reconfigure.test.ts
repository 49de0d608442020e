// A reload with new worker settings: the count follows (up: new workers join once ready; down: the
// surplus leaves the pool, then drains without dropping a request), timeouts and limits apply to
// the workers from then on, and a refused reload changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'undici';
import { AppLoadError } from './index.ts';
import { type LogEntry, call, callJson, fixture, isAlive, startTestApp, tempDir, waitFor } from './test-helpers.ts';

const settingsLine = (logs: LogEntry[]) => logs.filter((l) => l.msg.startsWith('app "app": '));

test('workers 1 → 3: the extra workers start on the new generation and join the pool once ready', async (t) => {
  const { app, logs } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 1 });
  const [old] = app.workers();
  const changes: string[][] = [];
  app.on('change', (s: string[]) => changes.push(s));
  await app.reload({ workers: 3 });
  const sockets = app.sockets();
  assert.equal(sockets.length, 3);
  assert.deepEqual(changes.at(-1), sockets);
  // Every announced set is all-ready: the pool never saw a worker that could not answer yet.
  assert.ok(changes.every((c) => c.length >= 1));
  const serving = app.workers().filter((w) => w.state === 'ready');
  assert.deepEqual(serving.map((w) => [w.slot, w.generation]), [[0, 2], [1, 2], [2, 2]]);
  const pids = new Set<number>();
  for (const socket of sockets) pids.add((await callJson<{ pid: number }>(socket, '/')).pid);
  assert.equal(pids.size, 3, 'each socket is its own worker');
  assert.deepEqual(settingsLine(logs).map((l) => l.msg), ['app "app": workers 1 → 3']);
  // The master's view, not just the pid: its 'exit' event can come a moment after the process is gone.
  await waitFor('the rolled generation-1 worker to leave workers()', () => app.workers().length === 3);
  assert.equal(isAlive(old.pid), false);
});

test('workers 3 → 1 with slow requests in flight on every worker: all complete with 200, the surplus leaves the pool before it drains', async (t) => {
  // gracefulTimeout 300 ms at start: the surplus workers could not finish a 1.5 s request under it.
  // The reload raises it, and the drain (master's kill timer and the worker's own) follows.
  const { app, logs } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 3, shutdownTimeout: 300 });
  const before = app.workers();
  const clients = before.map((w) => new Client('http://localhost', { socketPath: w.socket }));
  t.after(() => Promise.all(clients.map((c) => c.destroy())));
  const slow = clients.map((c) => c.request({ path: '/slow?ms=1500', method: 'GET' }).then(async (r) => ({ status: r.statusCode, body: await r.body.text() })));
  for (const w of before) await waitFor(`the slow request to reach worker ${w.id}`, async () => (await callJson(w.socket, '/stats')).inflight === 1);

  const changes: string[][] = [];
  const statesAtChange: string[][] = [];
  app.on('change', (s: string[]) => {
    changes.push(s);
    statesAtChange.push(app.workers().filter((w) => w.pid === before[1].pid || w.pid === before[2].pid).map((w) => w.state));
  });
  await app.reload({ workers: 1, shutdownTimeout: 5_000 });
  assert.equal(app.sockets().length, 1);
  const fresh = app.workers().find((w) => w.state === 'ready')!;
  assert.deepEqual([fresh.slot, fresh.generation], [0, 2]);
  // Canary in (slot 0 new, 1 and 2 old), then the surplus out: announced while still 'ready', not yet told to drain.
  assert.deepEqual(changes, [[fresh.socket, before[1].socket, before[2].socket], [fresh.socket]]);
  assert.deepEqual(statesAtChange[1], ['ready', 'ready']);
  assert.deepEqual(app.workers().filter((w) => w.pid !== fresh.pid).map((w) => w.state), ['draining', 'draining', 'draining']);

  const done = await Promise.all(slow);
  for (const [i, r] of done.entries()) {
    assert.equal(r.status, 200, r.body);
    assert.equal(JSON.parse(r.body).pid, before[i].pid);
  }
  await waitFor('the old workers to leave workers()', () => app.workers().length === 1);
  assert.deepEqual(app.workers().map((w) => w.pid), [fresh.pid]);
  assert.ok(before.every((w) => !isAlive(w.pid)));
  assert.deepEqual(settingsLine(logs).map((l) => l.msg), ['app "app": workers 3 → 1, shutdownTimeout 300 ms → 5000 ms']);
  assert.ok(!logs.some((l) => l.msg.includes('drain exceeded') || l.msg.includes('still draining')));
  assert.equal((await call(fresh.socket, '/')).status, 200);
});

test('a lower workerTimeout applies: a worker hung past it is killed and replaced', async (t) => {
  const { app } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 1, workerTimeout: 60_000 });
  // Not much lower: workerTimeout also bounds a new worker's start, and this machine may be busy.
  await app.reload({ workerTimeout: 2_500 });
  const [w] = app.workers().filter((x) => x.state === 'ready');
  const started = Date.now();
  const hang = call(w.socket, '/hang').then(() => 'answered', () => `cut after ${Date.now() - started} ms`);
  const replacement = await waitFor('the hung worker to be replaced', () => app.workers().find((x) => x.slot === 0 && x.pid !== w.pid && x.state === 'ready'), 15_000);
  assert.equal(replacement.restarts, 1);
  assert.equal(isAlive(w.pid), false);
  // The old 60 s would not have fired within this test at all; 2.5 s plus a heartbeat does.
  const outcome = await hang;
  const ms = Number(/^cut after (\d+) ms$/.exec(outcome)?.[1]);
  assert.ok(ms < 2_500 + 2_500, outcome);
});

test('maxRequests set by a reload: workers are recycled after that many requests', async (t) => {
  const { app, logs } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 1 });
  await app.reload({ maxRequests: 3 });
  const [w] = app.workers().filter((x) => x.state === 'ready');
  for (let i = 0; i < 3; i++) assert.equal((await call(w.socket, '/')).status, 200);
  const fresh = await waitFor('the worker to be recycled', () => app.workers().find((x) => x.pid !== w.pid && x.state === 'ready'), 10_000);
  assert.equal(fresh.restarts, 0);
  assert.match(String(logs.find((l) => l.msg.startsWith('recycling worker'))?.fields.reason), /served 3 requests \(maxRequests 3/);
  assert.deepEqual(settingsLine(logs).map((l) => l.msg), ['app "app": maxRequests 0 → 3']);
});

test('a reload whose settings change nothing keeps the count and logs no change', async (t) => {
  const { app, logs } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 2, workerTimeout: 5_000 });
  await app.reload({ workers: 2, workerTimeout: 5_000, shutdownTimeout: 5_000, maxRequests: 0, maxRequestsJitter: 0, maxMemory: 0 });
  assert.equal(app.sockets().length, 2);
  assert.deepEqual(app.workers().filter((w) => w.state === 'ready').map((w) => [w.slot, w.generation]), [[0, 2], [1, 2]]);
  assert.deepEqual(settingsLine(logs), []);
  // An explicit undefined is "not given", never "back to the default".
  await app.reload({ workers: undefined });
  assert.equal(app.sockets().length, 2);
  assert.deepEqual(settingsLine(logs), []);
});

test('a refused reload changes no setting: same count, and the old limits stay in force', async (t) => {
  const dir = tempDir(t);
  const module = join(dir, 'app.mjs');
  writeFileSync(module, 'export default { fetch: () => Response.json({ version: 1, pid: process.pid }) };\n');
  const { app, logs } = await startTestApp(t, { module, workers: 1 });
  const [w] = app.workers();
  writeFileSync(module, "throw new Error('v2 is broken');\n");
  const err = await app.reload({ workers: 3, maxRequests: 2 }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof AppLoadError, String(err));
  assert.deepEqual(app.workers().map((x) => x.pid), [w.pid]);
  assert.deepEqual(settingsLine(logs), []);
  // maxRequests 2 did not take: the worker serves on past it.
  for (let i = 0; i < 4; i++) assert.equal((await callJson(w.socket, '/')).version, 1);
  await waitFor('a heartbeat carrying the count', () => app.workers()[0].requests >= 4, 5_000);
  assert.ok(!logs.some((l) => l.msg.startsWith('recycling worker')));
  // Fixed code then takes the settings.
  writeFileSync(module, 'export default { fetch: () => Response.json({ version: 3, pid: process.pid }) };\n');
  await app.reload({ workers: 3 });
  assert.equal(app.sockets().length, 3);
});

test('invalid settings are refused at once, before anything rolls', async (t) => {
  const { app } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 1 });
  const [w] = app.workers();
  await assert.rejects(app.reload({ workers: 0 }), /app server "app": workers must be an integer ≥ 1, got 0/);
  await assert.rejects(app.reload({ workerTimeout: -1 }), /workerTimeout must be > 0 ms/);
  assert.deepEqual(app.workers().map((x) => [x.pid, x.generation]), [[w.pid, 1]]);
});
