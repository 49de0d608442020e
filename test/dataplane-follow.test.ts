// A data-plane replica's stack follows another process's app workers (`appSockets`, src/dataplane):
// it starts no workers, and a reload applies the app's new `concurrency` to the pool it follows,
// as the primary applies it to its own (test/appserver-reload-settings.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from '../src/stack.ts';
import { validateConfig } from '../src/config/validate.ts';
import { createLogger } from '../src/observability/logger.ts';
import { waitFor } from './helpers/servers.ts';

const APP = join(import.meta.dirname, '..', 'bench', 'journey', 'hello-framework.ts');

test('a replica stack applies a reloaded concurrency to the app pool it follows', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-follow-'));
  // The "worker": a unix-socket server that holds every request until released.
  const socket = join(dir, 'worker.sock');
  const held: http.ServerResponse[] = [];
  const worker = http.createServer((_req, res) => { held.push(res); });
  await new Promise<void>((resolve) => worker.listen(socket, resolve));
  t.after(() => new Promise((resolve) => { worker.closeAllConnections(); worker.close(resolve); }));
  const release = () => { for (const res of held.splice(0)) res.end('ok'); };

  const configWith = (concurrency: number) => {
    const r = validateConfig({
      listeners: [{ host: '127.0.0.1', port: 0 }], runtimeDir: join(dir, 'run'),
      apps: { w: { module: APP, concurrency } }, routes: [{ path: '/', app: 'w' }],
    }, process.cwd());
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return r.config;
  };
  const stack = new Stack(configWith(1), {
    log: createLogger({ level: 'error', write: () => {} }),
    appSockets: { sockets: () => [socket], onChange: () => {} },
  });
  await stack.start();
  t.after(() => stack.stop(1000));
  const url = `http://127.0.0.1:${stack.addresses()[0].port}/`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => agent.destroy());
  const get = () => new Promise<number>((resolve, reject) => {
    http.get(url, { agent }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); }).on('error', reject);
  });

  // concurrency 1: two requests reach the worker one after the other.
  const first = [get(), get()];
  await waitFor(() => held.length === 1, 'the first request at the worker');
  release();
  await waitFor(() => held.length === 1, 'the second one after the first');
  release();
  assert.deepEqual(await Promise.all(first), [200, 200]);

  await stack.reload(configWith(3));
  const after = [get(), get(), get()];
  await waitFor(() => held.length === 3, 'three requests at the worker at once after the reload', 5_000);
  release();
  assert.deepEqual(await Promise.all(after), [200, 200, 200]);
});
