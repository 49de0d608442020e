import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CrashWindow, RestartBackoff } from './backoff.ts';

test('restarts: at once, then doubling from 100 ms up to 10 s', () => {
  const b = new RestartBackoff();
  const delays = Array.from({ length: 10 }, () => b.next(50));
  assert.deepEqual(delays, [0, 100, 200, 400, 800, 1_600, 3_200, 6_400, 10_000, 10_000]);
});

test('a worker that stayed up 30 s earns an immediate restart again', () => {
  const b = new RestartBackoff();
  b.next(0);
  b.next(0);
  assert.equal(b.next(0), 200);
  assert.equal(b.next(30_000), 0);
  assert.equal(b.next(10), 100);
});

test('the crash window counts crashes in the last 10 s and flags a loop at 5', () => {
  const w = new CrashWindow();
  const counts = [0, 1_000, 2_000, 3_000, 4_000].map((t) => w.record(t));
  assert.deepEqual(counts, [1, 2, 3, 4, 5]);
  assert.equal(w.looping(5), true);
  assert.equal(w.record(12_500), 3, 'crashes at 0, 1 and 2 s have left the window');
  assert.equal(w.looping(3), false);
});
