import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policyConformance, request, servers } from './conformance.ts';
import { roundRobinPolicy } from './round-robin.ts';
import { smoothWeightedPolicy } from './smooth-weighted.ts';
import { leastOutstandingPolicy } from './least-outstanding.ts';
import { powerOfTwoPolicy } from './power-of-two.ts';
import { consistentHashPolicy } from './consistent-hash.ts';
import { stickyCookiePolicy } from './sticky-cookie.ts';
import { firstAvailablePolicy } from './first-available.ts';

policyConformance('round-robin', roundRobinPolicy, { weighted: false, slowStart: false, loadAware: false, hashing: false });
policyConformance('weighted-round-robin', smoothWeightedPolicy, { weighted: true, slowStart: true, loadAware: false, hashing: false });
policyConformance('least-outstanding', leastOutstandingPolicy, { weighted: true, slowStart: true, loadAware: true, hashing: false });
policyConformance('power-of-two', () => powerOfTwoPolicy(), { weighted: true, slowStart: true, loadAware: true, hashing: false });
policyConformance('consistent-hash (ip)', () => consistentHashPolicy({ from: 'ip' }), { weighted: true, slowStart: false, loadAware: false, hashing: true });
policyConformance('sticky-cookie', () => stickyCookiePolicy(), { weighted: true, slowStart: true, loadAware: false, hashing: false });
policyConformance('first-available', firstAvailablePolicy, { weighted: true, slowStart: true, loadAware: true, hashing: false });

test('weighted-round-robin: weight 3 gets exactly 3 of every 4, interleaved', () => {
  const list = servers([3, 1]);
  const policy = smoothWeightedPolicy();
  const picks = Array.from({ length: 8 }, (_, i) => list.indexOf(policy.pick(list, request(i))!));
  assert.deepEqual(picks, [0, 0, 1, 0, 0, 0, 1, 0]);
});

test('consistent-hash on a header or a cookie keys on its value, falling back to the client address', () => {
  const list = servers([1, 1, 1, 1]);
  const byHeader = consistentHashPolicy({ from: 'header', name: 'x-user' });
  const byCookie = consistentHashPolicy({ from: 'cookie', name: 'sid' });
  const homes = new Set<unknown>();
  for (let i = 0; i < 200; i++) {
    // Different client addresses, one user: one server.
    const a = byHeader.pick(list, { ...request(i), headers: { 'x-user': 'alice' } });
    homes.add(a);
    assert.equal(byCookie.pick(list, { ...request(i), headers: { cookie: 'a=1; sid=alice' } }), byCookie.pick(list, { ...request(i + 1), headers: { cookie: 'sid=alice' } }));
  }
  assert.equal(homes.size, 1);
  assert.equal(byHeader.pick(list, request(7)), byHeader.pick(list, request(7)));
});

test('sticky-cookie pins a client to its server and re-pins when that server goes away', () => {
  const list = servers([1, 1, 1]);
  const policy = stickyCookiePolicy('route');
  const first = policy.pick(list, request(1))!;
  const cookie = policy.setCookie!(first, request(1));
  assert.equal(cookie, `route=${first.id}; Path=/; HttpOnly; SameSite=Lax`);
  const pinned = { ...request(2), headers: { cookie: `route=${first.id}` } };
  for (let i = 0; i < 20; i++) assert.equal(policy.pick(list, pinned), first);
  assert.equal(policy.setCookie!(first, pinned), null);
  first.draining = true;
  const other = policy.pick(list, pinned)!;
  assert.notEqual(other, first);
  assert.match(policy.setCookie!(other, pinned)!, new RegExp(`^route=${other.id};`));
});

test('power-of-two with one usable server takes it without drawing', () => {
  const list = servers([1, 1]);
  list[0].healthy = false;
  assert.equal(powerOfTwoPolicy(() => 0).pick(list, request(1)), list[1]);
});
