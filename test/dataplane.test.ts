// `processes: 2` (src/dataplane): a primary and a replica serve the same port (SO_REUSEPORT, port 0
// resolved once), worker-mode apps are reached from the replica through the primary's worker
// sockets, a killed replica is replaced, reloads reach every process (and a replica that refuses
// one keeps serving its old config), and a stop finishes a request in flight on the replica.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminRequest } from '../src/admin/admin-client.ts';
import { Client } from 'undici';
import { connection, connectionTo, startUp, type Answer, type Connection, type UpProcess } from './helpers/portico-up.ts';
import { isAlive, waitFor } from './helpers/servers.ts';
import { formatStatus } from '../src/cli/commands/status-table.ts';
import { main } from '../src/cli/main.ts';

// The in-process app answers with the pid of the data-plane process that runs it; /slow streams
// its second half later, so a stop can meet it in flight. A replica refuses to import it once the
// `fail-replica` marker exists (a reload that fails in a replica only).
const APP = `
import { existsSync } from 'node:fs';
if (process.env.PORTICO_DATAPLANE_CONFIG !== undefined && existsSync(new URL('./fail-replica', import.meta.url))) throw new Error('this replica refuses the new code');
const enc = (s) => new TextEncoder().encode(s);
export default { fetch(req) {
  if (new URL(req.url).pathname === '/c') return new Response(String(process.pid), { headers: { 'cache-control': 'max-age=600' } });
  if (new URL(req.url).pathname === '/slow') return new Response(new ReadableStream({ start(c) { c.enqueue(enc('start ')); setTimeout(() => { c.enqueue(enc('end')); c.close(); }, 300); } }));
  return new Response(String(process.pid));
} };
`;
const WORKER = `
const enc = (s) => new TextEncoder().encode(s);
export default { fetch(req) {
  if (new URL(req.url).pathname.endsWith('/slow')) return new Response(new ReadableStream({ start(c) { c.enqueue(enc('worker start ')); setTimeout(() => { c.enqueue(enc('end')); c.close(); }, 300); } }));
  return new Response('worker ' + process.pid);
} };
`;
const config = (body: string) => `export default {
  processes: 2,
  listeners: [{ port: 0 }],
  accessLog: { path: './access.log', format: '$request $status' },
  apps: { pid: { module: './app.ts', mode: 'in-process' }, w: { module: './worker.ts', workers: 1 } },
  routes: [{ path: '/w', app: 'w' }, { exactPath: '/r', respond: { status: 200, body: ${JSON.stringify(body)} } }, { exactPath: '/c', app: 'pid', cache: true }, { path: '/', app: 'pid' }],
};\n`;

interface Proc { role: string; pid: number | null; state: string; restarts: number }
const pick = (a: Answer) => ({ status: a.status, body: a.body });

describe('processes: 2', () => {
  let dir: string;
  let up: UpProcess;
  let requests = 0;
  const admin = () => ({ socket: join(dir, '.portico', 'admin.sock') });
  const processes = async () => ((await adminRequest(admin(), 'GET', '/status')).body as { dataPlane: Proc[] }).dataPlane;
  const replicaPid = async () => (await processes()).find((p) => p.role === 'replica')!.pid!;
  const counted = () => requests++;
  /** Lines in the access log so far, before and after the SIGUSR1 rotation test. */
  const accessLogLines = () => ['access.log.1', 'access.log']
    .map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== '').length : 0))
    .reduce((a, b) => a + b, 0);
  const get = (c: Connection, path: string) => c.get(path);
  /** The pid every process answers, one connection per process. */
  const onEach = async <T>(each: (c: Connection) => Promise<T>, close = true): Promise<T[]> => {
    const out: T[] = [];
    for (const pid of [up.child.pid!, await replicaPid()]) {
      const c = await connectionTo(up.port, '/', pid, counted);
      out.push(await each(c));
      if (close) c.close();
    }
    return out;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-dp-'));
    writeFileSync(join(dir, 'app.ts'), APP);
    writeFileSync(join(dir, 'worker.ts'), WORKER);
    writeFileSync(join(dir, 'portico.config.ts'), config('v1'));
    up = await startUp(join(dir, 'portico.config.ts'));
  });
  after(() => {
    if (up.child.exitCode === null) up.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('both processes accept connections on the port 0 the primary resolved; status lists them', async () => {
    const list = await processes();
    assert.deepEqual(list.map((p) => [p.role, p.state]), [['primary', 'ready'], ['replica', 'ready']]);
    assert.equal(list[0].pid, up.child.pid);
    // `portico status` prints a line per process.
    const table = formatStatus((await adminRequest(admin(), 'GET', '/status')).body);
    assert.match(table, new RegExp(`\\ndata-plane primary 0: pid ${list[0].pid}, ready, up [\\d.]+s, 0 restart\\(s\\)\\ndata-plane replica 1: pid ${list[1].pid}, ready, `));
    assert.ok(up.lines.some((l) => l.includes(`listening on http://127.0.0.1:${up.port} replica=${list[1].pid}`)));
    const seen = new Set<number>();
    await waitFor(async () => {
      const c = connection(up.port, counted);
      seen.add(Number((await get(c, '/')).body));
      c.close();
      return seen.size === 2;
    }, 'connections on both processes');
    assert.deepEqual([...seen].sort(), [list[0].pid, list[1].pid].sort());
  });

  test("worker-mode app routes work from the replica, through the primary's worker sockets", async () => {
    const statusBody = (await adminRequest(admin(), 'GET', '/status')).body as { apps: Record<string, { pid: number }[]> };
    const workerPid = statusBody.apps.w[0].pid;
    const c = await connectionTo(up.port, '/', await replicaPid(), counted);
    assert.deepEqual(pick(await get(c, '/w')), { status: 200, body: `worker ${workerPid}` });
    c.close();
  });

  test("a worker that dies is replaced and the replica's pool follows the new socket", async () => {
    const workers = async () => ((await adminRequest(admin(), 'GET', '/status')).body as { apps: Record<string, { pid: number; state: string }[]> }).apps.w;
    const old = (await workers())[0].pid;
    process.kill(old, 'SIGKILL');
    const fresh = await waitFor(async () => (await workers()).find((w) => w.pid !== old && w.state === 'ready')?.pid, 'a new worker');
    const c = await connectionTo(up.port, '/', await replicaPid(), counted);
    assert.deepEqual(pick(await get(c, '/w')), { status: 200, body: `worker ${fresh}` });
    c.close();
  });

  test('POST /cache/purge empties the memory cache of every process', async () => {
    const xcache = async () => onEach(async (c) => String((await get(c, '/c')).headers['x-cache']));
    await xcache(); // fills each process's own cache
    assert.deepEqual(await xcache(), ['HIT', 'HIT']);
    const client = new Client('http://localhost', { socketPath: admin().socket });
    try {
      const res = await client.request({ method: 'POST', path: '/cache/purge', body: JSON.stringify({ prefix: `http://127.0.0.1:${up.port}/c` }) });
      assert.deepEqual(await res.body.json(), { ok: true, purged: 2 });
    } finally {
      await client.close();
    }
    assert.deepEqual(await xcache(), ['MISS', 'MISS']);
  });

  test('pool drain reaches every process: the drained worker gets nothing from the replica, then serves again', async () => {
    const statusBody = (await adminRequest(admin(), 'GET', '/status')).body as { apps: Record<string, { pid: number; state: string }[]>; pools: Record<string, { servers: { address: string }[] }> };
    const socket = statusBody.pools['app:w'].servers[0].address;
    const replica = await replicaPid();
    const onReplica = async (path: string) => {
      const c = await connectionTo(up.port, '/', replica, counted);
      const a = await get(c, path);
      c.close();
      return a;
    };
    assert.equal((await adminRequest(admin(), 'POST', `/pools/app:w/servers/${encodeURIComponent(socket)}/drain`)).status, 200);
    // The drain is pushed to the replica: poll (bounded) until it applies there.
    await waitFor(async () => (await onReplica('/w')).status === 503, 'the replica to drain the worker');
    assert.equal((await adminRequest(admin(), 'POST', `/pools/app:w/servers/${encodeURIComponent(socket)}/undrain`)).status, 200);
    await waitFor(async () => (await onReplica('/w')).status === 200, 'the replica to undrain the worker');
  });

  test('SIGUSR1 reopens the access log in every process (after a rename, new lines go to the new file)', async () => {
    renameSync(join(dir, 'access.log'), join(dir, 'access.log.1'));
    up.child.kill('SIGUSR1');
    // The signal reaches the replica through the primary: poll (bounded) until its lines land in the new file.
    await waitFor(async () => {
      const [primary, replica] = await onEach(async (c) => c, false);
      await get(primary, '/usr1-primary');
      await get(replica, '/usr1-replica');
      primary.close();
      replica.close();
      const now = existsSync(join(dir, 'access.log')) ? readFileSync(join(dir, 'access.log'), 'utf8') : '';
      return now.includes('GET /usr1-primary ') && now.includes('GET /usr1-replica ');
    }, 'lines of both processes in the reopened log');
  });

  test('a reload reaches every process; a replica that refuses it keeps its old config and the answer says so', async () => {
    writeFileSync(join(dir, 'portico.config.ts'), config('v2'));
    const ok = (await adminRequest(admin(), 'POST', '/reload')).body as { ok: boolean; processes: { error: string | null }[] };
    assert.equal(ok.ok, true);
    assert.deepEqual(ok.processes.map((p) => p.error), [null]);
    assert.deepEqual(await onEach(async (c) => (await get(c, '/r')).body), ['v2', 'v2']);

    writeFileSync(join(dir, 'fail-replica'), '');
    writeFileSync(join(dir, 'portico.config.ts'), config('v3'));
    const partial = (await adminRequest(admin(), 'POST', '/reload')).body as { ok: boolean; processes: { error: string | null }[] };
    // `portico reload` says so too, with exit 1.
    assert.equal(await main(['reload', '--config', join(dir, 'portico.config.ts')]), 1);
    rmSync(join(dir, 'fail-replica'));
    assert.match(partial.processes[0].error ?? '', /this replica refuses the new code/);
    assert.deepEqual(await onEach(async (c) => (await get(c, '/r')).body), ['v3', 'v2']);
  });

  test('a killed replica is replaced (restarts counted) and traffic keeps flowing to both', async () => {
    const old = await replicaPid();
    const mark = up.lines.length;
    // A SIGKILL loses what the replica's access log still buffers (as for nginx with `buffer=`):
    // let every line so far reach the file first, so the count at the end is exact.
    await waitFor(() => accessLogLines() === requests, 'the access log flushed');
    process.kill(old, 'SIGKILL');
    await up.waitLine(/data-plane replica died; restarting/, mark);
    // Its socket went with it: new connections meanwhile are all served (by the primary, or by the
    // replacement if it is already up: the first restart is at once), none refused or reset.
    for (let i = 0; i < 20; i++) {
      const c = connection(up.port, counted);
      const answer = await get(c, '/');
      assert.equal(answer.status, 200);
      assert.notEqual(answer.body, String(old));
      c.close();
    }
    await up.waitLine(/data-plane replica ready/, mark);
    const list = await processes();
    assert.notEqual(list[1].pid, old);
    assert.equal(list[1].restarts, 1);
    // The new replica read the config on disk (v3) and serves.
    assert.deepEqual(await onEach(async (c) => (await get(c, '/r')).body), ['v3', 'v3']);
  });

  test('SIGTERM finishes a request in flight on the replica, stops every process, exit 0; one access log, whole lines', async () => {
    const replica = await replicaPid();
    const c = await connectionTo(up.port, '/', replica, counted);
    const toWorker = await connectionTo(up.port, '/', replica, counted);
    const slow = c.stream('/slow');
    const slowWorker = toWorker.stream('/w/slow');
    // The first halves are out: both requests are in flight when the signal arrives, one in the
    // replica's in-process app, one from the replica to the primary's worker.
    await Promise.all([slow.first, slowWorker.first]);
    up.child.kill('SIGTERM');
    assert.equal((await slow.done).body, 'start end');
    assert.equal((await slowWorker.done).body, 'worker start end');
    assert.equal(await up.exited, 0);
    // The primary waited for its replica before exiting.
    assert.equal(isAlive(replica), false);
    const log = readFileSync(join(dir, 'access.log.1'), 'utf8') + readFileSync(join(dir, 'access.log'), 'utf8');
    const lines = log.split('\n').filter((l) => l !== '');
    assert.ok(log.endsWith('\n'));
    // 503s: the drained worker, seen from the replica.
    for (const l of lines) assert.match(l, /^GET \/\S* HTTP\/1\.1 (200|503)$/);
    assert.equal(lines.length, requests);
  });
});

describe('processes: 2, failures of the process tree', () => {
  test('a primary killed outright leaves no replica behind: they see the IPC channel close and stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-dp-'));
    try {
      writeFileSync(join(dir, 'app.ts'), APP);
      writeFileSync(join(dir, 'worker.ts'), WORKER);
      writeFileSync(join(dir, 'portico.config.ts'), config('v1'));
      const up = await startUp(join(dir, 'portico.config.ts'));
      const status = (await adminRequest({ socket: join(dir, '.portico', 'admin.sock') }, 'GET', '/status')).body as { dataPlane: Proc[] };
      const replica = status.dataPlane[1].pid!;
      assert.ok(isAlive(replica));
      up.child.kill('SIGKILL');
      await waitFor(() => !isAlive(replica), 'the replica gone');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('stops the start with exit 1 and takes the primary and its workers down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-dp-'));
    let workerPid = 0;
    try {
      writeFileSync(join(dir, 'app.ts'), APP);
      writeFileSync(join(dir, 'worker.ts'), WORKER);
      writeFileSync(join(dir, 'fail-replica'), '');
      writeFileSync(join(dir, 'portico.config.ts'), config('v1'));
      await assert.rejects(startUp(join(dir, 'portico.config.ts')), (err: Error) => {
        assert.match(err.message, /portico up exited 1/);
        assert.match(err.message, /data-plane replica 1 exited during start/);
        assert.match(err.message, /this replica refuses the new code/);
        workerPid = Number(/app server started app=w .*?(\d+)\\"\]"/.exec(err.message)?.[1]);
        return true;
      });
      assert.ok(workerPid > 0);
      await waitFor(() => !isAlive(workerPid), 'the worker gone');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
