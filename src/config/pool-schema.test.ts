import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { validateConfig } from './validate.ts';

// The test fixtures directory: maintenance pages must exist.
const dir = fileURLToPath(new URL('../../test/fixtures/balancer', import.meta.url));
const withPool = (pool: Record<string, unknown>) => ({ pools: { web: { servers: [{ url: 'http://127.0.0.1:3000' }], ...pool } }, routes: [{ path: '/', upstream: 'web' }] });

function resolved(pool: Record<string, unknown>) {
  const r = validateConfig(withPool(pool), dir);
  assert.ok(r.ok, r.ok ? '' : r.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return r.config.pools.web;
}

function issues(pool: Record<string, unknown>): string[] {
  const r = validateConfig(withPool(pool), dir);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
}

test('pool policy: a name or the object form, with its options resolved', () => {
  assert.deepEqual(resolved({}).policy, { name: 'weighted-round-robin' });
  assert.deepEqual(resolved({ policy: 'least-outstanding' }).policy, { name: 'least-outstanding' });
  assert.deepEqual(resolved({ policy: 'consistent-hash' }).policy, { name: 'consistent-hash', key: { from: 'ip' } });
  assert.deepEqual(resolved({ policy: { name: 'consistent-hash', key: 'header:X-User' } }).policy, { name: 'consistent-hash', key: { from: 'header', name: 'x-user' } });
  assert.deepEqual(resolved({ policy: { name: 'consistent-hash', key: 'cookie:sid' } }).policy, { name: 'consistent-hash', key: { from: 'cookie', name: 'sid' } });
  assert.deepEqual(resolved({ policy: 'sticky-cookie' }).policy, { name: 'sticky-cookie', cookie: 'portico_server' });
  assert.deepEqual(resolved({ policy: { name: 'sticky-cookie', cookie: 'route' } }).policy, { name: 'sticky-cookie', cookie: 'route' });
});

test('pool policy mistakes name the field', () => {
  assert.match(issues({ policy: 'fastest' }).join('\n'), /pools\.web\.policy\.name: expected one of "round-robin", .*got "fastest"/);
  assert.match(issues({ policy: { name: 'round-robin', key: 'ip' } }).join('\n'), /pools\.web\.policy\.key: "key" applies only to policy "consistent-hash"/);
  assert.match(issues({ policy: { name: 'consistent-hash', key: 'query:x' } }).join('\n'), /pools\.web\.policy\.key: expected "ip", "header:<name>" or "cookie:<name>"/);
  assert.match(issues({ policy: { name: 'sticky-cookie', cookie: 'a b' } }).join('\n'), /pools\.web\.policy\.cookie/);
});

test('servers, queue, retries, all-down answer and health checks resolve with defaults', () => {
  const p = resolved({
    servers: [{ url: 'http://127.0.0.1:3000', maxConnections: 1 }, { url: 'http://127.0.0.1:3001', backup: true }],
    queue: { timeout: '30s' }, retries: 2, retryBudget: 0.1, retryAfter: '1m', maintenancePage: 'maintenance.html',
    healthCheck: { path: '/health', expectStatus: '200-299', body: 'OK' },
  });
  assert.deepEqual(p.servers.map((s) => [s.maxConnections, s.backup]), [[1, false], [0, true]]);
  assert.deepEqual(p.queue, { maxLength: 1000, timeout: 30_000 });
  assert.equal(p.retries, 2);
  assert.equal(p.retryBudget, 0.1);
  assert.equal(p.retryAfter, 60);
  assert.equal(p.maintenancePage, `${dir}/maintenance.html`);
  assert.deepEqual(p.healthCheck, { type: 'http', method: 'GET', path: '/health', status: [200, 299], body: 'OK', interval: 5000, timeout: 2000, rise: 2, fall: 3 });
  assert.deepEqual(resolved({ healthCheck: { type: 'tcp', expectStatus: '204' } }).healthCheck?.status, [204, 204]);
});

test('balancer field mistakes name the field', () => {
  const all = issues({
    servers: [{ url: 'http://127.0.0.1:3000', maxConnections: 0, backup: 'yes' }],
    queue: { maxLength: -1 }, retries: 11, retryBudget: 2,
    healthCheck: { type: 'udp', expectStatus: '399-200', rise: 0, interval: 'often' },
  }).join('\n');
  assert.match(issues({ maintenancePage: 'nowhere.html' }).join('\n'), /pools\.web\.maintenancePage: file not found: .*nowhere\.html/);
  for (const path of [
    'pools.web.servers[0].maxConnections', 'pools.web.servers[0].backup', 'pools.web.queue.maxLength', 'pools.web.retries',
    'pools.web.retryBudget', 'pools.web.healthCheck.type', 'pools.web.healthCheck.expectStatus', 'pools.web.healthCheck.rise',
    'pools.web.healthCheck.interval',
  ]) assert.ok(all.includes(`${path}: `), `no issue at ${path} in:\n${all}`);
});

test('discovery and passive ejection resolve with defaults; mistakes name the field', () => {
  const p = resolved({ discovery: { type: 'dns', resolver: '127.0.0.1:5353' }, passive: { failures: 3 } });
  assert.deepEqual(p.discovery, { type: 'dns', ttl: 30_000, resolver: '127.0.0.1:5353' });
  assert.deepEqual(p.passive, { failures: 3, ejectFor: 30_000, maxEjectFor: 300_000 });
  assert.equal(p.slowStart, 0);
  assert.equal(resolved({ slowStart: '30s' }).slowStart, 30_000);
  assert.deepEqual(resolved({ discovery: { type: 'dns', ttl: '5s', resolver: '[::1]:53' } }).discovery, { type: 'dns', ttl: 5000, resolver: '[::1]:53' });
  const all = issues({ discovery: { type: 'srv', resolver: 'dns.local' }, passive: { failures: 0, ejectFor: 'soon' } }).join('\n');
  for (const path of ['pools.web.discovery.type', 'pools.web.discovery.resolver', 'pools.web.passive.failures', 'pools.web.passive.ejectFor']) {
    assert.ok(all.includes(`${path}: `), `no issue at ${path} in:\n${all}`);
  }
});
