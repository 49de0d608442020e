// Reporting (gunicorn/pm2 style): per-worker figures the workers measure themselves and send
// with each heartbeat pong, and the worker id in log lines and response headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, fixture, startTestApp, waitFor } from './test-helpers.ts';

test('workers() reports requests, in flight, RSS, uptime and event-loop lag per worker', async (t) => {
  const { app } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 2 });
  const [w0, w1] = app.workers();
  assert.equal(w0.id, `0.1.${w0.pid}`);
  for (let i = 0; i < 3; i++) assert.equal((await call(w0.socket, '/')).status, 200);
  // Long enough for a heartbeat (1 s apart) to see it in flight even on a loaded machine.
  const slow = call(w0.socket, '/slow?ms=4000');
  const busy = await waitFor('the pongs to report 3 served and 1 in flight', () =>
    app.workers().find((w) => w.pid === w0.pid && w.requests === 3 && w.inflight === 1), 8_000);
  assert.ok(busy.rss > 10 * 1024 * 1024, `rss ${busy.rss}`);
  assert.ok(busy.uptime > 0);
  assert.equal(app.workers().find((w) => w.pid === w1.pid)?.requests, 0, 'the other worker served nothing');
  assert.equal((await slow).status, 200);

  // A handler that blocks the loop for 1 s shows up as lag on its worker only (margins are wide:
  // on a loaded machine an idle worker's timers can be late by a fair fraction of that).
  assert.equal((await call(w1.socket, '/block?ms=1000')).status, 200);
  const lagged = await waitFor('the lag to be reported', () => app.workers().find((w) => w.pid === w1.pid && w.eventLoopLag >= 800), 8_000);
  assert.ok(lagged.eventLoopLag < 10_000);
  assert.ok(app.workers().find((w) => w.pid === w0.pid)!.eventLoopLag < 800);
  await waitFor('the lag to fall back once the loop is free', () => app.workers().find((w) => w.pid === w1.pid && w.eventLoopLag < 800), 8_000);
});

test('responses name their worker; master log lines carry the worker id', async (t) => {
  const express = await startTestApp(t, { module: fixture('express-app.ts'), workers: 1 });
  const [e] = express.app.workers();
  assert.equal((await call(e.socket, '/')).headers['x-portico-worker'], `0.1.${e.pid}`);
  const { app, logs } = await startTestApp(t, { module: fixture('fetch-app.ts'), workers: 1 });
  const [w] = app.workers();
  assert.equal((await call(w.socket, '/')).headers['x-portico-worker'], `0.1.${w.pid}`);
  assert.deepEqual(logs.find((l) => l.msg === 'app server started')?.fields.ids, [w.id]);
  await assert.rejects(call(w.socket, '/crash'));
  const warning = await waitFor('the crash warning', () => logs.find((l) => l.msg.includes('exited unexpectedly')));
  assert.equal(warning.fields.worker, w.id);
});
