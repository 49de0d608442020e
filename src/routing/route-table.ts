// Host + path-prefix routing (nginx `server_name` + `location /prefix`), compiled once per config.
//
// Precedence, predictable and printed by `portico routes`:
//   1. host: an exact name beats a wildcard (`*.example.com`, longest suffix first), which beats
//      routes with no host (nginx's server_name order);
//   2. within the chosen host group, the longest matching path prefix wins (nginx's prefix rule);
//   3. for equal prefixes, the route listed first in the config wins.
// A request whose host group has no matching prefix falls through to the host-less routes.
// Lookup walks the request path's segment boundaries (O(segments)) with a Map per host group,
// so its cost does not grow with the number of routes.

export interface RouteEntry<T> {
  readonly index: number;
  readonly name: string;
  /** Lowercased exact names or `*.suffix`; empty = any host. */
  readonly hosts: readonly string[];
  /** `/` or a prefix without a trailing slash, matched on segment boundaries. */
  readonly path: string;
  readonly target: T;
}

export interface RouteHit<T> {
  readonly entry: RouteEntry<T>;
  readonly group: string;
}

class PrefixGroup<T> {
  readonly byPrefix = new Map<string, RouteEntry<T>>();

  add(entry: RouteEntry<T>): void {
    if (!this.byPrefix.has(entry.path)) this.byPrefix.set(entry.path, entry); // first listed wins
  }

  /** Longest prefix of `path` on a segment boundary: `/api` matches `/api`, `/api/x`, not `/apix`. */
  match(path: string): RouteEntry<T> | undefined {
    const map = this.byPrefix;
    let hit = map.get(path);
    if (hit !== undefined) return hit;
    let end = path.length;
    while (end > 0) {
      end = path.lastIndexOf('/', end - 1);
      if (end <= 0) break;
      hit = map.get(path.slice(0, end));
      if (hit !== undefined) return hit;
    }
    return map.get('/');
  }
}

export class RouteTable<T> {
  private readonly exact = new Map<string, PrefixGroup<T>>();
  /** Wildcards sorted by suffix length, longest first. */
  private readonly wildcards: { suffix: string; group: PrefixGroup<T> }[] = [];
  private readonly anyHost = new PrefixGroup<T>();
  readonly entries: readonly RouteEntry<T>[];

  constructor(entries: readonly RouteEntry<T>[]) {
    this.entries = entries;
    for (const e of entries) {
      if (e.hosts.length === 0) this.anyHost.add(e);
      for (const h of e.hosts) {
        if (h.startsWith('*.')) {
          const suffix = h.slice(1); // ".example.com"
          let w = this.wildcards.find((x) => x.suffix === suffix);
          if (w === undefined) this.wildcards.push((w = { suffix, group: new PrefixGroup<T>() }));
          w.group.add(e);
        } else {
          let g = this.exact.get(h);
          if (g === undefined) this.exact.set(h, (g = new PrefixGroup<T>()));
          g.add(e);
        }
      }
    }
    this.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
  }

  match(host: string, path: string): RouteHit<T> | null {
    const g = this.exact.get(host);
    if (g !== undefined) {
      const e = g.match(path);
      if (e !== undefined) return { entry: e, group: host };
    }
    for (let i = 0; i < this.wildcards.length; i++) {
      const w = this.wildcards[i];
      if (host.endsWith(w.suffix) && host.length > w.suffix.length) {
        const e = w.group.match(path);
        if (e !== undefined) return { entry: e, group: '*' + w.suffix };
      }
    }
    const e = this.anyHost.match(path);
    return e === undefined ? null : { entry: e, group: '*' };
  }
}
