// `GET /status` with `processes` > 1: every process has its own pools, caches and WebSocket
// counters (SO_REUSEPORT gives each a share of the connections), so the admin status sums them,
// as nginx Plus and HAProxy stats total their workers. What a sum would hide stays visible: the
// health of a server as each process sees it (the primary's view is the main value; processes that
// see it otherwise are listed under `disagreements`), and each process's own counters under its
// `dataPlane[]` entry (primary.ts).

type Obj = Record<string, unknown>;

/** One process's `Stack.status()`, by data-plane slot (0 is the primary). */
export interface ProcessStatus { slot: number; status: Obj }

/** The counters a process owns; the rest of `Stack.status()` (listeners, routes, app workers) is the primary's. */
export const PER_PROCESS_KEYS = ['pools', 'caches', 'websockets', 'inProcessApps'] as const;

const SERVER_SUMS = ['requests', 'failures', 'inFlight', 'ejections'];
const QUEUE_SUMS = ['depth', 'queued', 'served', 'timedOut', 'rejected'];
const APP_SUMS = ['requests', 'waiting'];

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const clone = <T>(v: T): T => structuredClone(v);

/** The primary's status with the counters of every answered process summed in; `all[0]` is the primary. */
export function mergeStatus(all: readonly ProcessStatus[]): Obj {
  const [primary, ...others] = all;
  const out: Obj = { ...primary.status };
  for (const key of PER_PROCESS_KEYS) out[key] = clone(primary.status[key] ?? {});
  for (const p of others) {
    mergeEach(out.pools as Obj, p.status.pools, (into, pool) => mergePool(into, pool, p.slot));
    mergeEach(out.caches as Obj, p.status.caches, (into, counters) => sumKeys(into, counters, Object.keys(counters)));
    mergeEach(out.inProcessApps as Obj, p.status.inProcessApps, (into, app) => sumKeys(into, app, APP_SUMS));
    if (isObj(p.status.websockets)) sumKeys(out.websockets as Obj, p.status.websockets, Object.keys(p.status.websockets));
  }
  return out;
}

/** Requests a process sent to its pools' servers: the figure each `dataPlane[]` entry shows. */
export function poolRequests(status: Obj): number {
  let n = 0;
  for (const pool of Object.values(isObj(status.pools) ? status.pools : {})) {
    for (const s of isObj(pool) && Array.isArray(pool.servers) ? pool.servers as unknown[] : []) n += isObj(s) ? num(s.requests) : 0;
  }
  return n;
}

/** By name: merged into the primary's entry; one only a replica has (it kept an older config) is added as it is. */
function mergeEach(into: Obj, from: unknown, merge: (into: Obj, from: Obj) => void): void {
  if (!isObj(from)) return;
  for (const [name, value] of Object.entries(from)) {
    if (!isObj(value)) continue;
    const mine = into[name];
    if (isObj(mine)) merge(mine, value);
    else into[name] = clone(value);
  }
}

function sumKeys(into: Obj, from: Obj, keys: readonly string[]): void {
  for (const k of keys) if (typeof from[k] === 'number') into[k] = num(into[k]) + (from[k] as number);
}

function mergePool(into: Obj, pool: Obj, slot: number): void {
  if (isObj(into.queue) && isObj(pool.queue)) mergeQueue(into.queue, pool.queue);
  if (isObj(into.retries) && isObj(pool.retries)) sumKeys(into.retries, pool.retries, Object.keys(pool.retries));
  const servers = Array.isArray(into.servers) ? into.servers as Obj[] : [];
  for (const s of Array.isArray(pool.servers) ? pool.servers as unknown[] : []) {
    if (!isObj(s)) continue;
    const mine = servers.find((m) => m.address === s.address);
    if (mine === undefined) {
      servers.push(clone(s));
      continue;
    }
    sumKeys(mine, s, SERVER_SUMS);
    // Health checks, ejection and drains run per process: one process may see a server down
    // before the others do. Listed rather than summed.
    if (mine.healthy !== s.healthy || mine.draining !== s.draining || (num(mine.ejectedFor) > 0) !== (num(s.ejectedFor) > 0)) {
      const list = (mine.disagreements ??= []) as Obj[];
      list.push({ slot, healthy: s.healthy, draining: s.draining, ejectedFor: s.ejectedFor });
    }
  }
  into.servers = servers;
}

function mergeQueue(into: Obj, q: Obj): void {
  // The mean wait weighted by the requests each process served from its queue; the oldest wait is the max.
  const served = num(into.served) + num(q.served);
  into.meanWait = served === 0 ? 0 : (num(into.meanWait) * num(into.served) + num(q.meanWait) * num(q.served)) / served;
  into.oldestWait = Math.max(num(into.oldestWait), num(q.oldestWait));
  sumKeys(into, q, QUEUE_SUMS);
}
