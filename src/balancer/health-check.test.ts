import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closedPort, scriptedServer } from '../../test/helpers/servers.ts';
import { probe } from './health-check.ts';
import type { ResolvedHealthCheck } from '../config/resolved.ts';

const http: ResolvedHealthCheck = { type: 'http', method: 'GET', path: '/health', status: [200, 299], body: null, interval: 1000, timeout: 300, rise: 1, fall: 1 };

test('probe: status inside the range passes, outside fails; the method and path are the configured ones', async () => {
  let status = 204;
  const seen: string[] = [];
  const s = await scriptedServer((req, res) => { seen.push(`${req.method} ${req.url}`); res.statusCode = status; res.end(); });
  try {
    assert.equal(await probe(s.url, http), true);
    status = 302;
    assert.equal(await probe(s.url, http), false);
    assert.equal(await probe(s.url, { ...http, method: 'HEAD', status: [300, 399] }), true);
    assert.deepEqual(seen, ['GET /health', 'GET /health', 'HEAD /health']);
  } finally {
    await s.close();
  }
});

test('probe: a server that does not answer within timeout fails, and the check does not hang', async () => {
  const s = await scriptedServer(() => {});
  try {
    const started = Date.now();
    assert.equal(await probe(s.url, http), false);
    assert.ok(Date.now() - started < 2_000);
  } finally {
    await s.close();
  }
});

test('probe: body match reads the body; refused connections fail for http and tcp', async () => {
  const s = await scriptedServer((_req, res) => res.end('status: READY'));
  const port = await closedPort();
  try {
    assert.equal(await probe(s.url, { ...http, body: 'READY' }), true);
    assert.equal(await probe(s.url, { ...http, body: 'DEGRADED' }), false);
    assert.equal(await probe(`http://127.0.0.1:${port}`, http), false);
    assert.equal(await probe(`http://127.0.0.1:${port}`, { ...http, type: 'tcp' }), false);
    assert.equal(await probe(s.url, { ...http, type: 'tcp' }), true);
  } finally {
    await s.close();
  }
});
