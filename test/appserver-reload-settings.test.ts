// `portico reload` (Stack.reload) applies changed apps.<name> worker settings to the running app:
// the worker count in status and in the app pool follows the config, requests reach every worker,
// and a scale-down under load drops nothing (the surplus leaves the pool, then drains).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { startStack, type TestStack } from './helpers/stack.ts';
import { isAlive, waitFor } from './helpers/servers.ts';
import { validateConfig } from '../src/config/validate.ts';
import type { AppConfig } from '../src/config/types.ts';
import type { WorkerInfo } from '../src/appserver/index.ts';

const fetchApp = fileURLToPath(new URL('./fixtures/apps/fetch-app.ts', import.meta.url));
const routes = [{ path: '/', app: 'hello' }];

async function stackWith(t: { after(fn: () => Promise<void>): void }, app: Partial<AppConfig>) {
  const s = await startStack({ apps: { hello: { module: fetchApp, ...app } }, routes });
  t.after(() => s.close());
  return s;
}

/** Reloads `s` with the same config but these app settings. */
async function reloadWith(s: TestStack, app: Partial<AppConfig>): Promise<void> {
  const next = validateConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], runtimeDir: s.stack.config.runtimeDir, apps: { hello: { module: fetchApp, ...app } }, routes }, process.cwd());
  assert.ok(next.ok);
  await s.stack.reload(next.config);
}

const workers = (s: TestStack) => (s.stack.status().apps as Record<string, WorkerInfo[]>).hello;
const poolServers = (s: TestStack) => ((s.stack.status().pools as Record<string, { servers: { address: string }[] }>)['app:hello']).servers;

async function get(agent: Agent, url: string): Promise<{ status: number; worker: string; body: string }> {
  const r = await request(url, { dispatcher: agent });
  return { status: r.statusCode, worker: String(r.headers['x-portico-worker']), body: await r.body.text() };
}

test('reload raising workers 1 → 3: status and the app pool show 3, and requests reach all of them', async (t) => {
  const s = await stackWith(t, { workers: 1 });
  const agent = new Agent({ connections: 8 });
  t.after(() => agent.close());
  const [old] = workers(s);
  await reloadWith(s, { workers: 3 });
  assert.equal(poolServers(s).length, 3);
  const ready = workers(s).filter((w) => w.state === 'ready');
  assert.deepEqual(ready.map((w) => [w.slot, w.generation]), [[0, 2], [1, 2], [2, 2]]);
  assert.deepEqual(new Set(poolServers(s).map((p) => p.address)), new Set(ready.map((w) => `unix:${w.socket}`)));
  const seen = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const r = await get(agent, `${s.url}/`);
    assert.equal(r.status, 200, r.body);
    seen.add(r.worker.split('.')[0]);
  }
  assert.deepEqual([...seen].sort(), ['0', '1', '2']);
  // The master's view, not just the pid: its 'exit' event can come a moment after the process is gone.
  await waitFor(() => workers(s).length === 3, 'the rolled worker to leave the status');
  assert.equal(isAlive(old.pid), false);
});

test('reload lowering workers 3 → 1 under load: slow requests in flight complete with 200, nothing fails, one worker remains', async (t) => {
  const s = await stackWith(t, { workers: 3, gracefulTimeout: '10s' });
  const agent = new Agent({ connections: 32 });
  t.after(() => agent.close());
  const before = workers(s);
  const slow = Array.from({ length: 6 }, () => get(agent, `${s.url}/slow?ms=3000`));
  // Every worker reports 2 in flight in a heartbeat (≤ 1 s apart): the requests are inside the apps.
  await waitFor(() => workers(s).every((w) => w.inflight === 2), 'two slow requests in each worker', 5_000);

  // Fast requests keep coming while the reload runs (bounded, and stopped if an assertion fails).
  let running = true;
  t.after(() => { running = false; });
  const fast: { status: number; body: string }[] = [];
  const loop = (async () => {
    while (running && fast.length < 5_000) fast.push(await get(agent, `${s.url}/`).catch((err: unknown) => ({ status: 0, body: String(err) })));
  })();
  await reloadWith(s, { workers: 1, gracefulTimeout: '10s' });
  assert.equal(poolServers(s).length, 1, 'the surplus left the pool');
  const after = fast.length;
  await waitFor(() => fast.length >= after + 20, 'requests to flow after the reload');
  running = false;
  await loop;

  const done = await Promise.all(slow);
  assert.deepEqual(done.filter((r) => r.status !== 200), []);
  assert.deepEqual(new Set(done.map((r) => r.worker.split('.')[1])), new Set(['1']), 'the old workers finished them');
  assert.deepEqual(fast.filter((r) => r.status !== 200), [], `${fast.length} fast requests`);
  await waitFor(() => workers(s).length === 1, 'the old workers to leave the status');
  assert.deepEqual(workers(s).map((w) => [w.slot, w.generation, w.state]), [[0, 2, 'ready']]);
  assert.ok(before.every((w) => !isAlive(w.pid)));
  assert.match((await get(agent, `${s.url}/`)).worker, /^0\.2\.\d+$/);
});

test('a reload that changes nothing keeps the worker count', async (t) => {
  const s = await stackWith(t, { workers: 2 });
  await s.stack.reload(s.stack.config);
  assert.deepEqual(workers(s).filter((w) => w.state === 'ready').map((w) => [w.slot, w.generation]), [[0, 2], [1, 2]]);
  assert.equal(poolServers(s).length, 2);
});

test('a reload raising concurrency lets more requests reach a worker at once', async (t) => {
  const s = await stackWith(t, { workers: 1, concurrency: 1 });
  const agent = new Agent({ connections: 8 });
  t.after(() => agent.close());
  await reloadWith(s, { workers: 1, concurrency: 3 });
  const slow = Array.from({ length: 3 }, () => get(agent, `${s.url}/slow?ms=2000`));
  // With the old single connection, the worker would never hold more than one of them.
  await waitFor(() => workers(s).some((w) => w.state === 'ready' && w.inflight === 3), 'three requests in the worker at once', 5_000);
  assert.deepEqual((await Promise.all(slow)).map((r) => r.status), [200, 200, 200]);
});
