// `portico serve` as an operator runs it: a real master process in direct mode (workers share one
// listening socket), real signals, real crashes.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { isAlive, waitFor } from './helpers/servers.ts';

const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/apps/${name}`, import.meta.url));

interface Served {
  child: ChildProcess;
  base: string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Every worker pid the master logged or a response named. */
  pids: Set<number>;
}

async function serve(t: TestContext, args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [cli, 'serve', ...args, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PORTICO_LOG_LEVEL: 'info' } });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const pids = new Set<number>();
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });
  const port = await waitFor(() => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err)?.[1], 'the listening line', 15_000);
  const ids = /app server started .*ids=(".*")/.exec(err)?.[1] ?? '""';
  for (const id of JSON.parse(JSON.parse(ids) as string) as string[]) pids.add(Number(id.split('.')[2]));
  return { child, base: `http://127.0.0.1:${port}`, stderr: () => err, exited, pids };
}

/** A GET on a fresh connection; `served.pids` learns the worker from x-portico-worker. */
async function get(s: Served, path: string): Promise<{ status: number; body: string; worker: string }> {
  const r = await request(`${s.base}${path}`, { headers: { connection: 'close' } });
  const worker = String(r.headers['x-portico-worker']);
  s.pids.add(Number(worker.split('.')[2]));
  return { status: r.statusCode, body: await r.body.text(), worker };
}

test('SIGTERM with a request in flight: it completes, then the master and every worker are gone', async (t) => {
  const s = await serve(t, [fixture('hono-app.ts'), '--workers', '2']);
  assert.equal(s.pids.size, 2);
  const r = await request(`${s.base}/stream?n=5&gap=200`);
  s.pids.add(Number(String(r.headers['x-portico-worker']).split('.')[2]));
  s.child.kill('SIGTERM'); // the head is here: the request is in flight on a worker
  assert.equal(await r.body.text(), 'chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n');
  assert.equal(await s.exited, 0, s.stderr());
  assert.match(s.stderr(), /SIGTERM: stopping gracefully/);
  for (const pid of s.pids) assert.equal(isAlive(pid), false, `worker ${pid} outlived the master`);
});

test('a crashed worker is replaced and serves again', async (t) => {
  const s = await serve(t, [fixture('fetch-app.ts'), '--workers', '1']);
  const first = await get(s, '/');
  await assert.rejects(get(s, '/crash'));
  const next = await waitFor(async () => {
    const r = await get(s, '/').catch(() => undefined);
    return r?.status === 200 && r.worker !== first.worker ? r : undefined;
  }, 'a replacement worker');
  assert.match(next.worker, /^0\.1\.\d+$/);
  assert.match(s.stderr(), new RegExp(`worker exited unexpectedly: replacing it .*worker=${first.worker.replaceAll('.', '\\.')}`));
});

test('SIGHUP rolls to new code under load with no failed request; broken code is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pserve-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const module = join(dir, 'app.mjs');
  const version = (v: number) => `export default { fetch: async () => { await new Promise((r) => setTimeout(r, 20)); return new Response('v${v}'); } };\n`;
  writeFileSync(module, version(1));
  const s = await serve(t, [module, '--workers', '2']);
  const outcomes: string[] = [];
  let running = true;
  const clients = Array.from({ length: 6 }, async () => {
    while (running) outcomes.push(await get(s, '/').then((r) => (r.status === 200 ? r.body : `HTTP ${r.status}`), (e: Error) => e.message));
  });
  await waitFor(() => outcomes.length >= 20, 'load to warm up');

  writeFileSync(module, version(2));
  s.child.kill('SIGHUP');
  await waitFor(() => /INFO {2}reloaded /.test(s.stderr()), 'the reload', 15_000);
  const after = outcomes.length;
  await waitFor(() => outcomes.length >= after + 30, 'load after the reload');

  writeFileSync(module, "throw new Error('v3 lost its config');\n");
  s.child.kill('SIGHUP');
  await waitFor(() => /reload refused: old workers keep serving.*v3 lost its config/.test(s.stderr()), 'the refusal', 15_000);
  const refused = outcomes.length;
  await waitFor(() => outcomes.length >= refused + 30, 'load after the refusal');
  running = false;
  await Promise.all(clients);

  const failed = outcomes.filter((o) => o !== 'v1' && o !== 'v2');
  assert.deepEqual(failed, [], `${failed.length} of ${outcomes.length} failed`);
  assert.ok(outcomes.slice(after + 6).every((o) => o === 'v2'), 'only new workers answer once the reload is done');
  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 0);
  for (const pid of s.pids) assert.equal(isAlive(pid), false, `worker ${pid} outlived the master`);
});

test('an app that cannot load stops the start with its error; bad arguments exit 2 with the usage', async (t) => {
  const child = spawn(process.execPath, [cli, 'serve', fixture('throws-at-import.ts'), '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  t.after(() => child.kill('SIGKILL'));
  const [code] = await once(child, 'exit');
  assert.equal(code, 1);
  assert.match(err, /failed to load .*throws-at-import\.ts/);
  const bad = spawn(process.execPath, [cli, 'serve', fixture('fetch-app.ts'), '--workers', 'many'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let badErr = '';
  bad.stderr?.on('data', (d: Buffer) => (badErr += d.toString()));
  assert.equal((await once(bad, 'exit'))[0], 2);
  assert.match(badErr, /--workers must be an integer ≥ 1 or "auto", got "many"/);
  assert.match(badErr, /Usage: portico serve APP/);
});

test('--max-requests recycles workers gracefully: no request fails, the generation stays', async (t) => {
  const s = await serve(t, [fixture('fetch-app.ts'), '--workers', '1', '--max-requests', '3']);
  const workers: string[] = [];
  // Limits are checked on each heartbeat (about once a second): keep asking until a recycle shows.
  await waitFor(async () => {
    const r = await get(s, '/');
    assert.equal(r.status, 200, r.body);
    workers.push(r.worker);
    return new Set(workers).size >= 3;
  }, 'two recycles', 10_000);
  const distinct = [...new Set(workers)];
  assert.ok(distinct.every((w) => /^0\.1\.\d+$/.test(w)), distinct.join());
  assert.match(s.stderr(), /INFO {2}worker recycled /);
});
