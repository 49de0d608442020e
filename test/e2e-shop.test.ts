// The example as a user runs it: the CLI as a child process, real requests over loopback,
// and SIGTERM leaving no process behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { isAlive, waitFor } from './helpers/servers.ts';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'src', 'cli', 'main.ts');
const config = join(root, 'examples', 'shop', 'portico.config.ts');

test('portico up serves the shop through edge → routing → proxy → app worker → framework, and SIGTERM leaves nothing behind', async () => {
  const runtimeDir = mkdtempSync(join(tmpdir(), 'portico-e2e-'));
  const env = { ...process.env, PORTICO_HTTP_PORT: '0', PORTICO_RUNTIME_DIR: runtimeDir, NODE_ENV: 'test' };
  const child = spawn(process.execPath, [cli, 'up', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const port = await waitFor(() => stderr.includes(' ready ') && /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1], 'the stack to be ready', 30_000);
    const base = `http://127.0.0.1:${port}`;

    const list = await request(`${base}/api/products`);
    assert.equal(list.statusCode, 200);
    const products = (await list.body.json()) as { id: unknown }[];
    assert.ok(Array.isArray(products) && products.length >= 3);
    assert.match(list.headers['x-request-id'] as string, /^[0-9a-f-]{36}$/);
    assert.match(list.headers['server-timing'] as string, /^edge;dur=[\d.]+, route, proxy;dur=[\d.]+, mw;dur=[\d.]+, controller;dur=[\d.]+, app;dur=[\d.]+$/);

    const one = await request(`${base}/api/products/${products[0].id}`);
    assert.equal(one.statusCode, 200);
    assert.equal(((await one.body.json()) as { id: unknown }).id, products[0].id);

    const missing = await request(`${base}/api/products/does-not-exist`);
    assert.equal(missing.statusCode, 404);
    await missing.body.text();

    const created = await request(`${base}/api/products`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Lamp', price: 19.5 }) });
    assert.equal(created.statusCode, 201);
    assert.equal(((await created.body.json()) as { name: string }).name, 'Lamp');

    const invalid = await request(`${base}/api/products`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: '', price: -1 }) });
    assert.equal(invalid.statusCode, 400);
    const reason = await invalid.body.text();
    assert.match(reason, /name/);
    assert.match(reason, /price/);

    // The second sub-system, prefix stripped, its own redirects mapped back under /legacy.
    const legacyHome = await request(`${base}/legacy/`);
    assert.equal(legacyHome.statusCode, 302);
    assert.equal(legacyHome.headers.location, `http://127.0.0.1:${port}/legacy/orders`);
    await legacyHome.body.text();
    const orders = await request(`${base}/legacy/orders`);
    assert.equal(orders.statusCode, 200);
    assert.equal(orders.headers['x-subsystem'], 'legacy');
    assert.equal(((await orders.body.json()) as { system: string }).system, 'legacy');
    const moved = await request(`${base}/old-shop/main.css`);
    assert.equal(moved.statusCode, 301);
    assert.equal(moved.headers.location, '/main.css');
    await moved.body.text();
    const gz = await request(`${base}/api/products`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], undefined, 'the product list is below the 1 KiB minimum');
    assert.equal(gz.headers.vary, 'Accept-Encoding');
    await gz.body.text();

    const page = await request(`${base}/`);
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    assert.match(await page.body.text(), /main\.css/);
    assert.match(page.headers['server-timing'] as string, /^edge;dur=[\d.]+, route, static;dur=[\d.]+$/);
    const css = await request(`${base}/main.css`);
    assert.equal(css.statusCode, 200);
    assert.match(css.headers['content-type'] as string, /text\/css/);
    await css.body.text();

    // The admin API through the CLI, as an operator would: the worker pids to check after stop.
    const status = spawnSync(process.execPath, [cli, 'status', '--json', '--config', config], { env, encoding: 'utf8' });
    assert.equal(status.status, 0, status.stderr);
    const state = JSON.parse(status.stdout) as { apps: { shop: { pid: number }[] } };
    const pids = state.apps.shop.map((w) => w.pid);
    assert.equal(pids.length, 2);
    assert.ok(pids.every(isAlive));
    // Without --json: a table per app, one row per worker.
    const table = spawnSync(process.execPath, [cli, 'status', '--config', config], { env, encoding: 'utf8' });
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^app shop: 2 ready of 2 worker\(s\)$/m);
    for (const pid of pids) assert.match(table.stdout, new RegExp(`^ +\\d +1 +${pid} +ready +`, 'm'));
    // Then the pools' servers as this one process counts them.
    assert.match(table.stdout, /^pool app:shop: 0 queued, 0 retried$/m);
    assert.match(table.stdout, /^ {2}unix:\S+: up, \d+ requests, 0 failures, 0 in flight, 0 ejections$/m);

    assert.match(stdout, /127\.0\.0\.1 to: unix:.*: GET \/api\/products HTTP\/1\.1 200/);

    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    await waitFor(() => pids.every((p) => !isAlive(p)), 'workers to exit', 10_000);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('portico check prints every mistake with its path and exits 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-check-'));
  const file = join(dir, 'portico.config.ts');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, `export default {
  listeners: [{ port: 8080 }, { port: 8080 }],
  pools: { web: { servers: [{ url: 'http://127.0.0.1:3000' }] }, assets: { servers: [{ url: 'http://127.0.0.1:3001' }] } },
  routes: [
    { path: '/', upstream: 'web' },
    { path: '/static', upstream: 'assets' },
    { path: '/api', upstream: 'api' },
    { path: '/x', upstreem: 'web' },
  ],
};
`);
  const r = spawnSync(process.execPath, [cli, 'check', '--config', file], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /routes\[2\]\.upstream: unknown pool "api" \(known: web, assets\)/);
  assert.match(r.stderr, /listeners\[1\]\.port/);
  assert.match(r.stderr, /routes\[3\]\.upstreem: unknown field \(did you mean "upstream"\?\)/);

  const ok = spawnSync(process.execPath, [cli, 'check', '--config', config], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /ok/);
});

test('portico routes, routes --explain and middleware print the table and the chain', () => {
  const routes = spawnSync(process.execPath, [cli, 'routes', '--config', config, '--explain', 'http://localhost/api/products/1'], { encoding: 'utf8' });
  assert.equal(routes.status, 0, routes.stderr);
  assert.match(routes.stdout, /\/api\s+app shop/);
  assert.match(routes.stdout, /route #0 \(api\): app shop/);
  const mw = spawnSync(process.execPath, [cli, 'middleware', '/api/products', '--config', config], { encoding: 'utf8', env: { ...process.env, NODE_ENV: 'test' } });
  assert.equal(mw.status, 0, mw.stderr);
  const order = ['edge', 'routing', 'proxy', 'app', 'router'].map((n) => mw.stdout.search(new RegExp(`\\d+\\. ${n}\\b`)));
  assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), mw.stdout);
  const help = spawnSync(process.execPath, [cli, 'up', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /SIGTERM/);
});
