// Host + path routing (nginx `server_name` + `location`), compiled once per config.
//
// Precedence, predictable and printed by `portico routes`:
//   1. host: an exact name beats a wildcard (`*.example.com`, longest suffix first), which beats
//      routes with no host (nginx's server_name order); a host group with no match for the
//      request falls through to the next;
//   2. within a host group: an exact path (`location =`), then regex paths in config order
//      (`location ~`), then the longest matching prefix on segment boundaries;
//   3. routes with the same path: those with conditions (method, headers, query, client address)
//      first, in config order, skipping any whose conditions do not hold; then the one without.
// Exact and prefix lookups are Map hits along the request path's segment boundaries, so their cost
// does not grow with the number of routes; regex routes are tried one by one, as nginx does.

export interface RouteEntry<T> {
  readonly index: number;
  readonly name: string;
  /** Lowercased exact names or `*.suffix`; empty = any host. */
  readonly hosts: readonly string[];
  /** A prefix (`/` or without a trailing slash), an exact path, or a regex source. */
  readonly path: string;
  readonly pathKind?: 'prefix' | 'exact' | 'regex';
  /** Has conditions of its own: tried before unconditional routes on the same path. */
  readonly conditional?: boolean;
  readonly target: T;
}

export interface RouteHit<T> {
  readonly entry: RouteEntry<T>;
  readonly group: string;
  /** Captures of a regex path (`$1`…, named groups by name). */
  readonly captures: RegExpExecArray | null;
}

/** Decides whether a candidate's own conditions hold for the request being routed. */
export type Accept<T> = (entry: RouteEntry<T>) => boolean;
const always = () => true;

class HostGroup<T> {
  private readonly exact = new Map<string, RouteEntry<T>[]>();
  private readonly regex: { re: RegExp; entry: RouteEntry<T> }[] = [];
  private readonly byPrefix = new Map<string, RouteEntry<T>[]>();

  add(entry: RouteEntry<T>): void {
    const kind = entry.pathKind ?? 'prefix';
    if (kind === 'regex') this.regex.push({ re: new RegExp(entry.path), entry });
    else push(kind === 'exact' ? this.exact : this.byPrefix, entry.path, entry);
  }

  match(path: string, accept: Accept<T>): { entry: RouteEntry<T>; captures: RegExpExecArray | null } | undefined {
    const exact = first(this.exact.get(path), accept);
    if (exact !== undefined) return { entry: exact, captures: null };
    for (let i = 0; i < this.regex.length; i++) {
      const r = this.regex[i];
      const m = r.re.exec(path);
      if (m !== null && accept(r.entry)) return { entry: r.entry, captures: m };
    }
    // Longest prefix of `path` on a segment boundary: `/api` matches `/api`, `/api/x`, not `/apix`.
    const map = this.byPrefix;
    let hit = first(map.get(path), accept);
    let end = path.length;
    while (hit === undefined && end > 0) {
      end = path.lastIndexOf('/', end - 1);
      if (end <= 0) break;
      hit = first(map.get(path.slice(0, end)), accept);
    }
    hit ??= first(map.get('/'), accept);
    return hit === undefined ? undefined : { entry: hit, captures: null };
  }
}

function push<T>(map: Map<string, RouteEntry<T>[]>, key: string, entry: RouteEntry<T>): void {
  const list = map.get(key);
  if (list === undefined) return void map.set(key, [entry]);
  // Conditional routes go before the first unconditional one; config order otherwise.
  const at = entry.conditional ? list.findIndex((e) => !e.conditional) : -1;
  if (at === -1) list.push(entry);
  else list.splice(at, 0, entry);
}

function first<T>(list: RouteEntry<T>[] | undefined, accept: Accept<T>): RouteEntry<T> | undefined {
  if (list === undefined) return undefined;
  for (let i = 0; i < list.length; i++) if (accept(list[i])) return list[i];
  return undefined;
}

export class RouteTable<T> {
  private readonly exactHosts = new Map<string, HostGroup<T>>();
  /** Wildcards sorted by suffix length, longest first. */
  private readonly wildcards: { suffix: string; group: HostGroup<T> }[] = [];
  private readonly anyHost = new HostGroup<T>();
  readonly entries: readonly RouteEntry<T>[];

  constructor(entries: readonly RouteEntry<T>[]) {
    this.entries = entries;
    for (const e of entries) {
      if (e.hosts.length === 0) this.anyHost.add(e);
      for (const h of e.hosts) {
        if (h.startsWith('*.')) {
          const suffix = h.slice(1); // ".example.com"
          let w = this.wildcards.find((x) => x.suffix === suffix);
          if (w === undefined) this.wildcards.push((w = { suffix, group: new HostGroup<T>() }));
          w.group.add(e);
        } else {
          let g = this.exactHosts.get(h);
          if (g === undefined) this.exactHosts.set(h, (g = new HostGroup<T>()));
          g.add(e);
        }
      }
    }
    this.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
  }

  match(host: string, path: string, accept: Accept<T> = always): RouteHit<T> | null {
    const g = this.exactHosts.get(host);
    if (g !== undefined) {
      const m = g.match(path, accept);
      if (m !== undefined) return { entry: m.entry, captures: m.captures, group: host };
    }
    for (let i = 0; i < this.wildcards.length; i++) {
      const w = this.wildcards[i];
      if (host.endsWith(w.suffix) && host.length > w.suffix.length) {
        const m = w.group.match(path, accept);
        if (m !== undefined) return { entry: m.entry, captures: m.captures, group: '*' + w.suffix };
      }
    }
    const m = this.anyHost.match(path, accept);
    return m === undefined ? null : { entry: m.entry, captures: m.captures, group: '*' };
  }
}
