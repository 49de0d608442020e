// A rolling reload through the whole stack while requests keep coming: none fails, and once the
// reload is done every response comes from a new-generation worker (x-portico-worker header:
// slot.generation.pid).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { startStack } from './helpers/stack.ts';
import { waitFor } from './helpers/servers.ts';

const fetchApp = fileURLToPath(new URL('./fixtures/apps/fetch-app.ts', import.meta.url));

interface Outcome {
  /** Sent after reload() resolved. */
  late: boolean;
  ok: boolean;
  worker: string;
  detail: string;
}

test('a rolling reload under concurrent load fails no request and ends on the new generation', async (t) => {
  const s = await startStack({ apps: { hello: { module: fetchApp, workers: 2 } }, routes: [{ path: '/', app: 'hello' }] });
  t.after(() => s.close());
  const agent = new Agent({ connections: 16 });
  t.after(() => agent.close());
  let reloaded = false;
  const get = async (path: string): Promise<Outcome> => {
    const late = reloaded;
    try {
      const r = await request(`${s.url}${path}`, { dispatcher: agent });
      const body = await r.body.text();
      return { late, ok: r.statusCode === 200, worker: String(r.headers['x-portico-worker']), detail: `${r.statusCode} ${body.slice(0, 200)}` };
    } catch (err) {
      return { late, ok: false, worker: '', detail: String(err) };
    }
  };
  const outcomes: Outcome[] = [];
  let running = true;
  // 8 clients, each one request after another, a mix of instant and 50 ms requests, so some are
  // always in flight on the workers being replaced.
  const clients = Array.from({ length: 8 }, async (_, i) => {
    for (let n = 0; running && n < 2_000; n++) outcomes.push(await get(n % 4 === i % 4 ? '/slow?ms=50' : '/'));
  });
  await waitFor(() => outcomes.length >= 50, 'load to warm up');
  const before = outcomes.length;
  const generation1 = new Set(outcomes.map((o) => o.worker));
  assert.ok([...generation1].every((w) => /^[01]\.1\.\d+$/.test(w)), [...generation1].join());

  await s.stack.reload(s.stack.config);
  reloaded = true;
  const during = outcomes.length - before;
  const after = outcomes.length;
  await waitFor(() => outcomes.length >= after + 100, 'load to continue after the reload');
  running = false;
  await Promise.all(clients);

  const failed = outcomes.filter((o) => !o.ok);
  assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of ${outcomes.length} requests failed`);
  assert.ok(during > 0, 'requests were served while the reload ran');
  // Requests already in flight when reload() resolved may be answered by an old worker (it drains
  // them); everything sent later must come from generation 2.
  const late = outcomes.filter((o) => o.late).map((o) => o.worker);
  assert.ok(late.length >= 90);
  assert.ok(late.every((w) => /^[01]\.2\.\d+$/.test(w)), `old workers answered after the reload: ${late.filter((w) => !/\.2\./.test(w)).join()}`);
  assert.equal(new Set(late.map((w) => w.split('.')[0])).size, 2, 'both new workers serve');
});
