import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetryBudget } from './retry-budget.ts';

test('retry budget: a reserve, then about `ratio` retries per request', () => {
  const budget = new RetryBudget(0.1, 10);
  let allowed = 0;
  for (let i = 0; i < 1_000; i++) {
    budget.deposit();
    if (budget.withdraw()) allowed++;
  }
  // Every request failing and asking for a retry: the reserve plus 10% of 1,000.
  assert.ok(allowed >= 100 && allowed <= 111, `allowed ${allowed}`);
  assert.equal(budget.retried, allowed);
  assert.equal(budget.denied, 1_000 - allowed);
});

test('retry budget: a quiet spell cannot save up a retry storm', () => {
  const budget = new RetryBudget(0.5, 2);
  for (let i = 0; i < 10_000; i++) budget.deposit();
  let allowed = 0;
  while (budget.withdraw()) allowed++;
  assert.equal(allowed, 52);
});

test('retry budget: ratio 0 and no reserve allows no retry', () => {
  const budget = new RetryBudget(0, 0);
  budget.deposit();
  assert.equal(budget.withdraw(), false);
});
