// What the hit path needs to know about a stored response — its parsed Cache-Control, its
// freshness lifetime (RFC 9111 §4.2.1) and its corrected initial age (§4.2.3) — depends only on
// the entry, which is never changed in place (a 304 or HEAD update stores a new object). So it is
// worked out once per entry, not once per hit: parsing Cache-Control and two HTTP-dates per hit
// was most of the cache's own cost. A WeakMap lets evicted entries take their facts with them.
import { parseCacheControl, type Directives } from './cache-control.ts';
import { correctedInitialAge, freshnessLifetime, type HeuristicOptions } from './freshness.ts';
import type { StoredResponse } from './store.ts';

export interface Facts {
  readonly cc: Directives;
  /** Freshness lifetime in ms; 0 for an entry marked stale (§4.3.5). */
  readonly lifetime: number;
  /** corrected_initial_age in ms; current_age = this + (now − responseTime). */
  readonly initialAge: number;
}

export class EntryFacts {
  private readonly known = new WeakMap<StoredResponse, Facts>();
  private readonly heuristic: HeuristicOptions;

  constructor(heuristic: HeuristicOptions) {
    this.heuristic = heuristic;
  }

  of(e: StoredResponse): Facts {
    let f = this.known.get(e);
    if (f === undefined) {
      const cc = parseCacheControl(e.headers['cache-control']);
      const lifetime = e.invalidated === true ? 0 : freshnessLifetime(e.status, e.headers, cc, e.responseTime, this.heuristic);
      f = { cc, lifetime, initialAge: correctedInitialAge(e) };
      this.known.set(e, f);
    }
    return f;
  }

  /** current_age (§4.2.3) in ms at `now`. */
  age(e: StoredResponse, now: number): number {
    return this.of(e).initialAge + now - e.responseTime;
  }
}
