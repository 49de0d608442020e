// Access logs checked field by field: nginx's combined format, custom variables, JSON, rotation
// by reopening, and no line lost at shutdown — on both edge engines.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { scriptedServer, waitFor } from './helpers/servers.ts';
import { startStack } from './helpers/stack.ts';
import { validateConfig } from '../src/config/validate.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'portico-log-'));
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

for (const engine of ['node', 'portico'] as const) describe(`${engine} engine`, () => {
  test('combined format (nginx default), field by field, with client-sent quotes escaped', async (t) => {
    const file = join(tmp(), 'access.log');
    const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, engine }], routes: [{ path: '/', respond: { status: 200, body: 'twelve bytes' } }], accessLog: { path: file } }, process.cwd(), { accessLog: true });
    t.after(() => s.close());
    const res = await request(`${s.url}/hello?x=1`, { headers: { referer: 'http://ref.example/', 'user-agent': 'curl/8 "evil" \\' } });
    await res.body.text();
    const [line] = await waitFor(() => (lines(file).length === 1 ? lines(file) : null), 'the log line');
    const m = /^(\S+) - - \[(\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "([^"]*)" (\d{3}) (\d+) "([^"]*)" "(.*)"$/.exec(line);
    assert.ok(m, line);
    assert.equal(m[1], '127.0.0.1');
    assert.equal(m[3], 'GET /hello?x=1 HTTP/1.1');
    assert.equal(m[4], '200');
    assert.equal(m[5], '12', '$body_bytes_sent counts the body only');
    assert.equal(m[6], 'http://ref.example/');
    assert.equal(m[7], 'curl/8 \\x22evil\\x22 \\x5C', 'a client cannot break out of the quoted field');
  });

  test('custom formats with nginx variables, and JSON', async (t) => {
    const upstream = await scriptedServer((_req, res) => res.end('from upstream'));
    const dir = tmp();
    const custom = join(dir, 'custom.log');
    const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, engine }],
      pools: { web: { servers: [{ url: upstream.url }] } },
      routes: [{ name: 'api', path: '/', upstream: 'web' }],
      accessLog: { path: custom, format: '$request_id|$upstream_addr|$upstream_response_time|$request_time|$http_x_custom|$route|$status|$bytes_sent|$host' },
    }, process.cwd(), { accessLog: true });
    t.after(async () => { await s.close(); await upstream.close(); });
    const res = await request(`${s.url}/a`, { headers: { 'x-custom': 'hi there' } });
    await res.body.text();
    const [line] = await waitFor(() => (lines(custom).length === 1 ? lines(custom) : null), 'the custom line');
    const f = line.split('|');
    assert.equal(f[0], res.headers['x-request-id']);
    assert.equal(f[1], `127.0.0.1:${upstream.port}`);
    assert.match(f[2], /^\d+\.\d{3}$/);
    assert.match(f[3], /^\d+\.\d{3}$/);
    assert.ok(Number(f[3]) >= Number(f[2]));
    assert.equal(f[4], 'hi there');
    assert.equal(f[5], 'api');
    assert.equal(f[6], '200');
    assert.ok(Number(f[7]) > 'from upstream'.length + 100, `$bytes_sent includes the head: ${line}`);
    assert.equal(f[8], '127.0.0.1');

    const json = join(dir, 'json.log');
    const j = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, engine }], routes: [{ path: '/', respond: { status: 404, body: 'no' } }], accessLog: { path: json, format: 'json' } }, process.cwd(), { accessLog: true });
    await (await request(`${j.url}/x`)).body.text();
    const [entry] = await waitFor(() => (lines(json).length === 1 ? lines(json) : null), 'the JSON line');
    const o = JSON.parse(entry) as Record<string, unknown>;
    assert.equal(o.status, 404);
    assert.equal(o.method, 'GET');
    assert.equal(o.uri, '/x');
    assert.equal(o.body_bytes_sent, 2);
    assert.equal(typeof o.request_time, 'number');
    await j.close();
  });

  test('reopen after rotation writes to the new file; stop flushes every line', async () => {
    const dir = tmp();
    const file = join(dir, 'access.log');
    const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, engine }], routes: [{ path: '/', respond: { status: 200, body: 'ok' } }], accessLog: { path: file } }, process.cwd(), { accessLog: true });
    await (await request(`${s.url}/before`)).body.text();
    await waitFor(() => lines(file).length === 1, 'the first line');
    renameSync(file, file + '.1'); // logrotate moves the file…
    s.stack.reopenLogs(); // …then signals: SIGUSR1 in `portico up`
    await (await request(`${s.url}/after`)).body.text();
    await waitFor(() => lines(file).length === 1, 'a line in the new file');
    assert.match(lines(file + '.1')[0], /GET \/before/);
    assert.match(lines(file)[0], /GET \/after/);
    // Many requests, then stop at once: none of their lines may be lost.
    await Promise.all(Array.from({ length: 200 }, async (_, i) => (await request(`${s.url}/n${i}`)).body.text()));
    await s.close();
    assert.equal(lines(file).length, 201);
  });
});

test('an unknown variable in a format is a config error naming it', () => {
  const r = validateConfig({ routes: [{ path: '/', respond: {} }], accessLog: { format: '$remote_addr $no_such_thing' } }, process.cwd());
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.issues.some((i) => i.path === 'accessLog.format' && /\$no_such_thing/.test(i.message)), JSON.stringify(!r.ok && r.issues));
});
