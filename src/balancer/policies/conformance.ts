// The one suite every selection policy passes (Hono's habit: one shared suite for every
// interchangeable implementation). Traits say which promises a policy makes beyond the common
// ones: honouring weights, steering away from loaded servers, keeping keys on their server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpstreamServer } from '../server.ts';
import type { PickRequest, Policy } from './policy.ts';

export interface PolicyTraits {
  /** Picks are shared in proportion to weight (else equally). */
  weighted: boolean;
  /** Honours slow start (the effective weight of a server ramping up). */
  slowStart: boolean;
  /** Sends fewer requests to a server whose requests pile up. */
  loadAware: boolean;
  /** The same key goes to the same server; only a leaving server's keys move. */
  hashing: boolean;
}

const opts = { connections: 1, connectTimeout: 1000, timeout: 1000 };

export function servers(weights: number[]): UpstreamServer[] {
  return weights.map((weight, i) => new UpstreamServer({ url: `http://127.0.0.1:${10_001 + i}`, weight }, opts));
}

export function request(i: number, exclude: ReadonlySet<UpstreamServer> | null = null): PickRequest {
  return { clientAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, headers: {}, exclude };
}

function shares(policy: Policy, list: UpstreamServer[], picks: number): number[] {
  const counts = new Map(list.map((s) => [s, 0]));
  for (let i = 0; i < picks; i++) {
    const s = policy.pick(list, request(i));
    assert.ok(s !== null);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return list.map((s) => (counts.get(s) ?? 0) / picks);
}

export function policyConformance(label: string, make: () => Policy, traits: PolicyTraits): void {
  test(`${label}: distribution over 10,000 picks with weights 3:1:1`, () => {
    const got = shares(make(), servers([3, 1, 1]), 10_000);
    const want = traits.weighted ? [0.6, 0.2, 0.2] : [1 / 3, 1 / 3, 1 / 3];
    // Hashing spreads by the keys it sees, so it gets a looser bound than the counting policies.
    const tolerance = traits.hashing ? 0.05 : 0.02;
    got.forEach((share, i) => assert.ok(Math.abs(share - want[i]) <= tolerance, `server ${i}: share ${share.toFixed(3)}, want ${want[i].toFixed(3)}`));
  });

  test(`${label}: unhealthy, draining and full servers are never picked`, () => {
    const list = servers([1, 1, 1, 1, 1]);
    list[0].healthy = false;
    list[1].draining = true;
    list[2].maxConnections = 1;
    list[2].inFlight = 1;
    const policy = make();
    for (let i = 0; i < 2_000; i++) {
      const s = policy.pick(list, request(i));
      assert.ok(s === list[3] || s === list[4], `picked unavailable server ${s?.address}`);
    }
    // A full server becomes available again when its slot frees.
    list[2].inFlight = 0;
    const seen = new Set(Array.from({ length: 2_000 }, (_, i) => policy.pick(list, request(i))));
    assert.ok(seen.has(list[2]));
  });

  test(`${label}: nothing available or nothing listed picks null`, () => {
    const list = servers([1, 2]);
    for (const s of list) s.healthy = false;
    assert.equal(make().pick(list, request(1)), null);
    assert.equal(make().pick([], request(1)), null);
  });

  test(`${label}: servers the request already tried are skipped`, () => {
    const list = servers([1, 1, 1]);
    const policy = make();
    for (let i = 0; i < 500; i++) {
      const first = policy.pick(list, request(i));
      assert.ok(first !== null);
      const second = policy.pick(list, request(i, new Set([first])));
      assert.ok(second !== null && second !== first);
    }
    assert.equal(policy.pick(list, request(1, new Set(list))), null);
  });

  if (traits.slowStart) {
    test(`${label}: a server in slow start gets a share in proportion to its ramp`, () => {
      const list = servers([1, 1]);
      // A quarter into an hour-long ramp: effective weight 0.25 against 1, a share of 0.2.
      const now = Date.now();
      list[1].slowStartFrom = now - 15 * 60_000;
      list[1].slowStartUntil = now + 45 * 60_000;
      const got = shares(make(), list, 10_000);
      assert.ok(Math.abs(got[1] - 0.2) <= 0.02, `ramping server got ${got[1].toFixed(3)}`);
      list[1].slowStartUntil = now;
      const after = shares(make(), list, 10_000);
      assert.ok(Math.abs(after[1] - 0.5) <= 0.02, `after the ramp: ${after[1].toFixed(3)}`);
    });
  }

  if (traits.loadAware) {
    test(`${label}: least-outstanding behaviour under uneven latency`, () => {
      // Discrete time: 2 arrivals per tick; server 0 takes 10 ticks per request, server 1 takes 1.
      const list = servers([1, 1]);
      const latency = [10, 1];
      const policy = make();
      const done: UpstreamServer[][] = [];
      const count = [0, 0];
      for (let tick = 0; tick < 5_000; tick++) {
        for (const s of done[tick] ?? []) s.inFlight--;
        for (let k = 0; k < 2; k++) {
          const s = policy.pick(list, request(tick * 2 + k));
          assert.ok(s !== null);
          const i = list.indexOf(s);
          count[i]++;
          s.inFlight++;
          (done[tick + latency[i]] ??= []).push(s);
        }
      }
      const fastShare = count[1] / (count[0] + count[1]);
      assert.ok(fastShare >= 0.7, `fast server got ${fastShare.toFixed(3)} of requests`);
    });
  }

  if (traits.hashing) {
    test(`${label}: a key stays on its server; a leaving server remaps at most ~1/N keys`, () => {
      const list = servers([1, 1, 1, 1, 1]);
      const policy = make();
      const keys = 10_000;
      const before = Array.from({ length: keys }, (_, i) => policy.pick(list, request(i)));
      for (let i = 0; i < keys; i += 97) assert.equal(policy.pick(list, request(i)), before[i]);
      const leaving = list[2];
      const check = (after: (i: number) => UpstreamServer | null) => {
        let moved = 0;
        for (let i = 0; i < keys; i++) {
          const s = after(i);
          if (s === before[i]) continue;
          moved++;
          assert.equal(before[i], leaving, `key ${i} moved although its server stayed`);
          assert.notEqual(s, leaving);
        }
        assert.ok(moved <= keys / list.length * 1.25, `${moved} of ${keys} keys moved`);
      };
      const remaining = list.filter((s) => s !== leaving);
      check((i) => policy.pick(remaining, request(i)));
      leaving.healthy = false;
      check((i) => policy.pick(list, request(i)));
    });
  }
}
