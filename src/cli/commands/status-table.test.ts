import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus } from './status-table.ts';

test('status prints one aligned worker table per app', () => {
  const out = formatStatus({
    pid: 10, uptime: 75.2, listeners: [{ name: 'http', host: '127.0.0.1', port: 8080 }],
    apps: {
      shop: [
        { id: '0.2.101', slot: 0, generation: 2, pid: 101, state: 'ready', uptime: 3723, requests: 12345, inflight: 3, restarts: 1, rss: 52_428_800, eventLoopLag: 1.25 },
        { id: '1.1.99', slot: 1, generation: 1, pid: 99, state: 'draining', uptime: 5, requests: 7, inflight: 0, restarts: 0, rss: 900_000, eventLoopLag: 0 },
      ],
    },
  });
  const lines = out.split('\n');
  assert.equal(lines[0], 'portico pid 10, up 1m15s');
  assert.equal(lines[1], 'listener http: 127.0.0.1:8080');
  assert.equal(lines[3], 'app shop: 1 ready of 2 worker(s)');
  assert.match(lines[4], /^slot {2}gen {2}pid {2}state +uptime +requests +in flight +restarts +rss +loop lag$/);
  assert.match(lines[5], /^ {3}0 {4}2 {2}101 {2}ready +1h02m +12345 +3 +1 +50\.0 MiB +1\.3 ms$/);
  assert.match(lines[6], /^ {3}1 {4}1 {3}99 {2}draining +5\.0s +7 +0 +0 +879 KiB +0\.0 ms$/);
  // Columns line up: every row is as long as the header.
  assert.equal(new Set(lines.slice(4, 7).map((l) => l.length)).size, 1);
});

test('status with no apps says so', () => {
  assert.match(formatStatus({ pid: 1, uptime: 1, listeners: [], apps: {} }), /\nno apps\n$/);
});

test('status lists in-process apps (no workers) with their generation, requests and module', () => {
  const out = formatStatus({
    pid: 1, uptime: 1, listeners: [], apps: {},
    inProcessApps: { api: { mode: 'in-process', module: '/srv/api.ts', generation: 3, uptime: 75, requests: 42, waiting: 1 } },
  });
  assert.doesNotMatch(out, /no apps/);
  assert.match(out, /\napp api: in-process \(generation 3, up 1m15s\), 42 requests, 1 waiting, module \/srv\/api\.ts\n$/);
});
