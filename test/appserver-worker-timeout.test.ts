// apps.*.workerTimeout reaches the app server through the stack config: a worker stuck in a busy
// loop is killed within workerTimeout plus a second and replaced, while its sibling keeps answering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';
import { startStack } from './helpers/stack.ts';
import { isAlive, waitFor } from './helpers/servers.ts';
import type { WorkerInfo } from '../src/appserver/index.ts';

const fetchApp = fileURLToPath(new URL('./fixtures/apps/fetch-app.ts', import.meta.url));

/** A GET on a fresh connection to a worker's unix socket; rejects after `timeoutMs` without a head. */
async function onSocket(socket: string, path: string, timeoutMs: number): Promise<number> {
  const client = new Client('http://localhost', { socketPath: socket, headersTimeout: timeoutMs });
  try {
    const r = await client.request({ path, method: 'GET' });
    await r.body.text();
    return r.statusCode;
  } finally {
    void client.destroy();
  }
}

/** Two workers with a short workerTimeout behind a stack; stopped after the test. */
async function twoWorkers(t: { after(fn: () => Promise<void>): void }) {
  const s = await startStack({
    apps: { hello: { module: fetchApp, workers: 2, workerTimeout: '1500ms', gracefulTimeout: '2s' } },
    routes: [{ path: '/', app: 'hello' }],
  });
  t.after(() => s.close());
  const workers = () => (s.stack.status().apps as Record<string, WorkerInfo[]>).hello;
  return { s, workers, before: workers(), started: Date.now() };
}

test('a hung worker is killed within workerTimeout + 1 s and replaced; the other one answers meanwhile', async (t) => {
  const { workers, before, started } = await twoWorkers(t);
  // Straight to one worker's socket, to watch the kill itself; the data-plane answer (504, no retry)
  // is the next test.
  const hang = onSocket(before[0].socket, '/hang', 10_000).then(() => 'answered', () => 'cut');
  const answered = new Map<number, number>();
  let killedAfter = 0;
  const replacement = await waitFor(async () => {
    // Each worker asked directly on its socket: the sibling keeps answering while one hangs.
    for (const w of before) {
      const status = await onSocket(w.socket, '/', 200).catch(() => 0);
      if (status === 200) answered.set(w.pid, (answered.get(w.pid) ?? 0) + 1);
    }
    if (killedAfter === 0 && before.some((w) => !isAlive(w.pid))) killedAfter = Date.now() - started;
    return workers().find((w) => w.restarts === 1 && w.state === 'ready');
  }, 'a replacement for the hung worker', 6_000);
  const hung = before.find((w) => w.slot === replacement.slot)!;
  const sibling = before.find((w) => w.slot !== replacement.slot)!;
  assert.equal(isAlive(hung.pid), false);
  assert.ok(killedAfter > 0 && killedAfter < 1_500 + 1_000, `killed after ${killedAfter} ms`);
  assert.ok((answered.get(sibling.pid) ?? 0) >= 3, `sibling answered ${answered.get(sibling.pid)} times`);
  assert.equal(isAlive(sibling.pid), true);
  assert.equal(await hang, 'cut', 'the hung request ends when its worker is killed');
  assert.equal(hung.pid, before[0].pid);
});

test('through the data plane: the hung request gets 504 WORKER_TIMEOUT, is not retried on the sibling, which stays up', async (t) => {
  const { s, before, started } = await twoWorkers(t);
  const client = new Client(s.url, { headersTimeout: 10_000 });
  t.after(() => client.close());
  const res = await client.request({ path: '/hang', method: 'GET' });
  const body = await res.body.text();
  assert.equal(res.statusCode, 504, body);
  assert.match(body, /WORKER_TIMEOUT/);
  assert.ok(Date.now() - started < 1_500 + 1_500, `answered after ${Date.now() - started} ms`);
  // The 504 can come back before the killed worker is reaped: wait for its exit, then check the
  // sibling (had the request been retried there, it would hang and be killed too).
  await waitFor(() => before.some((w) => !isAlive(w.pid)), 'the hung worker to exit', 2_000);
  const alive = before.filter((w) => isAlive(w.pid));
  assert.equal(alive.length, 1, 'exactly one worker was killed: the request did not hang the sibling');
  const ok = await client.request({ path: '/', method: 'GET' });
  await ok.body.text();
  assert.equal(ok.statusCode, 200);
});
