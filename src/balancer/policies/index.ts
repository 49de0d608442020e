// Policy names as written in config → policy instances (one per pool, built once per pool).
import type { Policy } from './policy.ts';
import type { ResolvedPolicy } from '../../config/resolved.ts';
import { roundRobinPolicy } from './round-robin.ts';
import { smoothWeightedPolicy } from './smooth-weighted.ts';
import { leastOutstandingPolicy } from './least-outstanding.ts';
import { powerOfTwoPolicy } from './power-of-two.ts';
import { consistentHashPolicy } from './consistent-hash.ts';
import { stickyCookiePolicy } from './sticky-cookie.ts';
import { firstAvailablePolicy } from './first-available.ts';

/** The resolved config's policy shape is the input: one definition, checked by the config schema. */
export type PolicyConfig = ResolvedPolicy;

export function createPolicy(config: PolicyConfig): Policy {
  switch (config.name) {
    case 'round-robin': return roundRobinPolicy();
    case 'weighted-round-robin': return smoothWeightedPolicy();
    case 'least-outstanding': return leastOutstandingPolicy();
    case 'power-of-two': return powerOfTwoPolicy();
    case 'first-available': return firstAvailablePolicy();
    case 'consistent-hash': return consistentHashPolicy(config.key);
    case 'sticky-cookie': return stickyCookiePolicy(config.cookie);
  }
}

export type { Policy, PickRequest } from './policy.ts';
