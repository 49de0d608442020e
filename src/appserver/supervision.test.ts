// The master keeping workers alive: crashes are replaced (with backoff when they repeat), hung
// workers are killed, and workers never outlive their master.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { call, callJson, fixture, isAlive, startTestApp, tempDir, waitFor } from './test-helpers.ts';

test('a crashed worker is replaced in its slot and serves again', async (t) => {
  const { app, logs } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 2 });
  const [w0, w1] = app.workers();
  const changes: string[][] = [];
  app.on('change', (s: string[]) => changes.push(s));
  await assert.rejects(call(w0.socket, '/crash'));
  const replaced = await waitFor('slot 0 to be ready again', () =>
    app.workers().find((w) => w.slot === 0 && w.pid !== w0.pid && w.state === 'ready'));
  assert.equal(replaced.restarts, 1);
  assert.equal(isAlive(w0.pid), false);
  assert.deepEqual(changes, [[w1.socket], [w0.socket, w1.socket]], 'out of rotation, then back in');
  assert.equal((await callJson(replaced.socket, '/')).pid, replaced.pid);
  assert.equal(app.workers().find((w) => w.slot === 1)?.pid, w1.pid, 'the other slot is untouched');
  const warning = logs.find((l) => l.msg.includes('exited unexpectedly'));
  assert.equal(warning?.fields.code, 1);
  assert.equal(warning?.fields.restartIn, 0, 'a first crash is replaced at once');
});

test('a crash loop is logged loudly with the last error and backs off', async (t) => {
  const { app, logs } = await startTestApp(t, { module: fixture('crash-loop-app.ts'), workers: 1 });
  const loud = await waitFor('the crash-loop error', () => logs.find((l) => l.level === 'error' && l.msg.includes('crash-looping')), 20_000);
  assert.match(String(loud.fields.lastError), /lost the database connection/);
  assert.ok(Number(loud.fields.restartIn) >= 800, `backoff grew to ${String(loud.fields.restartIn)} ms`);
  const delays = logs.filter((l) => l.fields.restartIn !== undefined).map((l) => Number(l.fields.restartIn));
  assert.deepEqual(delays.slice(0, 5), [0, 100, 200, 400, 800]);
  await app.stop(1_000); // while a restart is pending: it must not fire afterwards
  assert.deepEqual(app.workers(), []);
});

test('a worker whose event loop hangs is killed after workerTimeout and replaced', async (t) => {
  const { app, logs } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 1, workerTimeout: 1_500 });
  const [hung] = app.workers();
  const request = call(hung.socket, '/hang').then(() => 'answered', () => 'cut');
  const replaced = await waitFor('a replacement worker', () =>
    app.workers().find((w) => w.pid !== hung.pid && w.state === 'ready'), 10_000);
  assert.equal(await request, 'cut');
  assert.equal(isAlive(hung.pid), false);
  assert.ok(logs.some((l) => l.level === 'error' && l.msg.includes('unresponsive') && l.fields.pid === hung.pid));
  assert.equal(replaced.restarts, 1);
  assert.equal((await call(replaced.socket, '/')).status, 200);
});

test('workers exit when their master dies without stopping them', async (t) => {
  const dir = tempDir(t);
  const master = fork(fixture('orphan-master.ts'), [dir, fixture('fetch-app.ts')], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  t.after(() => master.kill('SIGKILL'));
  const [report] = (await once(master, 'message')) as [{ pids: number[]; sockets: string[] }];
  assert.equal(report.pids.length, 2);
  assert.equal((await call(report.sockets[0], '/')).status, 200);
  master.kill('SIGKILL');
  await once(master, 'exit');
  await waitFor('the orphaned workers to exit', () => report.pids.every((pid) => !isAlive(pid)));
});
