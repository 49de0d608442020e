// A reload that also brings new worker settings (gunicorn's HUP re-reading `workers`, `timeout`
// and `max_requests`; pm2's `scale` and `reload`): the count, timeouts and limits in force follow
// the config instead of waiting for a restart.
//
// Order, so that a broken deploy changes nothing and no request is dropped:
//   1. the new settings become the master's options: every worker spawned from now on (the rolled
//      ones first) gets the new workerTimeout, request and memory limits;
//   2. the rolling reload's canary (slot 0) proves the code loads; if it does not, the old
//      settings are restored and the reload is refused as before: same count, same limits;
//   3. fewer workers: right after the canary the surplus slots (the highest) leave the pool
//      ('change') and only then are told to drain, bounded by the (new) gracefulTimeout, so they
//      finish their in-flight requests and take no new one; the kept slots roll on;
//   4. more workers: once every kept slot has rolled, the extra ones start at the new generation
//      and join the pool together when all are ready (all or none: slots stay contiguous).
import type { MasterProcess, ResolvedOptions } from './master.ts';
import { newSlot } from './master.ts';
import { rollingReload } from './reload.ts';
import type { WorkerHandle } from './worker-handle.ts';

/** What a reload may change on a running app server; the rest (name, module, sockets) needs a restart. */
export interface WorkerSettings {
  workers: number;
  workerTimeout: number;
  /** The drain bound of replaced and removed workers (the stack's `gracefulTimeout`), ms. */
  shutdownTimeout: number;
  maxRequests: number;
  maxRequestsJitter: number;
  maxMemory: number;
}

const UNITS: Record<keyof WorkerSettings, string> = {
  workers: '', workerTimeout: ' ms', shutdownTimeout: ' ms', maxRequests: '', maxRequestsJitter: '', maxMemory: ' bytes',
};

/** `workers 1 → 3`, … for each setting `next` changes; the count is the slots actually running. */
export function settingChanges(master: MasterProcess, next: WorkerSettings): string[] {
  const current: WorkerSettings = { ...master.options, workers: master.slots.length };
  const out: string[] = [];
  for (const [field, unit] of Object.entries(UNITS) as [keyof WorkerSettings, string][]) {
    if (current[field] !== next[field]) out.push(`${field} ${current[field]}${unit} → ${next[field]}${unit}`);
  }
  return out;
}

export async function reloadWithSettings(master: MasterProcess, next: ResolvedOptions): Promise<void> {
  const previous = master.options;
  const log = previous.log;
  const changes = settingChanges(master, next);
  const from = master.slots.length;
  master.options = next;
  let canaryPassed = false;
  try {
    await rollingReload(master, () => {
      canaryPassed = true;
      if (changes.length > 0) log('info', `app "${master.name}": ${changes.join(', ')}`, { changes });
      if (next.workers < from) removeSlots(master, next.workers);
    });
  } catch (err) {
    // Refused before anything rolled: the old settings stay in force, as the old code does.
    if (!canaryPassed) master.options = previous;
    throw err;
  }
  if (next.workers > master.slots.length) await addSlots(master, next.workers);
}

/** Takes the slots from `keep` on out of the pool, then drains their workers. */
function removeSlots(master: MasterProcess, keep: number): void {
  const surplus = master.slots.splice(keep);
  for (const slot of surplus) {
    clearTimeout(slot.restartTimer); // a crashed surplus worker is not replaced
    slot.restartTimer = undefined;
    // Listed (still 'ready') among the retiring from now on, so workers() never loses sight of them.
    if (slot.current !== undefined) master.retiring.add(slot.current);
  }
  // Announce first: the data plane stops choosing these workers before they hear of the drain.
  master.notify();
  const draining: string[] = [];
  for (const slot of surplus) {
    const w = slot.current;
    slot.current = undefined;
    if (w === undefined) continue;
    draining.push(w.id);
    master.retire(w);
  }
  master.options.log('info', `workers removed: ${surplus.length} draining`, { workers: keep, draining });
}

/** Starts workers for new slots up to `count`; they join together once all are ready, or none does. */
async function addSlots(master: MasterProcess, count: number): Promise<void> {
  const log = master.options.log;
  const generation = master.generation;
  const fresh: WorkerHandle[] = [];
  for (let i = master.slots.length; i < count; i++) {
    const w = master.spawn(i, generation);
    master.pending.add(w);
    fresh.push(w);
  }
  const settled = await Promise.allSettled(fresh.map((w) => w.ready));
  let failure: unknown;
  settled.forEach((r, i) => {
    if (failure !== undefined) return;
    if (r.status === 'rejected') failure = r.reason;
    else if (fresh[i].exited) failure = new Error(`new worker ${fresh[i].config.slot} exited before it joined: ${fresh[i].lastError ?? 'no error reported'}`);
  });
  if (failure === undefined && master.stopping !== undefined) failure = new Error(`app server "${master.name}" is stopping: scaling abandoned`);
  if (failure !== undefined) {
    for (const w of fresh) master.retire(w);
    await Promise.all(fresh.map((w) => w.exit));
    log('error', `adding workers failed: ${master.slots.length} worker(s) keep serving`, { workers: count, error: failure instanceof Error ? failure.message : String(failure) });
    throw failure;
  }
  for (const w of fresh) {
    const slot = newSlot(w.config.slot, generation);
    slot.current = w;
    master.pending.delete(w);
    master.slots.push(slot);
  }
  master.notify();
  log('info', `workers added: ${fresh.length}`, { workers: count, added: fresh.map((w) => w.id) });
}
