// `portico status`'s counters section (formatTotals): printed for one data-plane process too, and
// headed by the processes it covers only when the admin API summed several (src/dataplane).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTotals } from './admin-commands.ts';

const pools = { api: { queue: { depth: 2 }, retries: { retried: 1 }, servers: [{ address: '10.0.0.1:80', healthy: false, requests: 7, failures: 3, inFlight: 1, ejections: 2 }] } };

test('one process: pool servers, caches and WebSockets, with no "totals over" header', () => {
  const text = formatTotals({ pools, caches: { c: { hit: 4, miss: 1 } }, websockets: { active: 0, total: 2, failed: 0 } });
  assert.equal(text, [
    '',
    'pool api: 2 queued, 1 retried',
    '  10.0.0.1:80: down, 7 requests, 3 failures, 1 in flight, 2 ejections',
    'cache c: 4 hit, 1 miss',
    'websockets: 0 active, 2 total, 0 failed',
    '',
  ].join('\n'));
});

test('several processes: the header says how many the sums cover and what each served', () => {
  const text = formatTotals({
    pools,
    aggregate: { processes: 1, of: 2 },
    dataPlane: [{ role: 'primary', slot: 0, pid: 10, counted: true, counters: { requests: 7 } }, { role: 'replica', slot: 1, pid: 11, counted: false, error: 'not serving (restarting)' }],
  });
  assert.match(text, /^\ntotals over 1 of 2 data-plane processes:\n {2}primary 0 \(pid 10\): 7 pool requests\n {2}replica 1 \(pid 11\): not counted \(not serving \(restarting\)\)\npool api: /);
});

test('nothing to count: nothing printed', () => {
  assert.equal(formatTotals({}), '');
  assert.equal(formatTotals(null), '');
});
