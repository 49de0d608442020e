// Zero-downtime rolling reload (gunicorn's HUP, puma's phased restart), without pm2#3143's lost
// requests. One slot at a time: start the slot's new worker, wait until it is ready, swap it into
// the slot and announce ('change': the data plane stops sending to the old one and closes its
// connections once what they carry is done), then tell the old worker to drain. Capacity never
// drops below `workers` ready processes. The next slot does not wait for the old worker to exit:
// a long request would stall the rollout; the drain is bounded by shutdownTimeout anyway.
//
// The first new worker is the canary: code that no longer imports costs one process, and no old
// worker is touched. A later one that fails stops the rollout there: rolled slots keep their
// (working) new workers, the others keep their old ones, and reload() rejects with the error.
import type { MasterProcess, Slot } from './master.ts';
import type { WorkerHandle } from './worker-handle.ts';

/**
 * `afterCanary` runs once the first slot has rolled (the new code loads): a reload that also lowers
 * `workers` retires the surplus slots there, so they are neither rolled nor lost to a broken deploy.
 */
export async function rollingReload(master: MasterProcess, afterCanary?: () => void): Promise<void> {
  const log = master.options.log;
  const generation = ++master.generation;
  const started = Date.now();
  const rolled: string[] = [];
  const draining: string[] = [];
  // By index, not for-of over a copy: afterCanary may shorten master.slots.
  for (let i = 0; i < master.slots.length; i++) {
    const slot = master.slots[i];
    const fresh = spawnPending(master, slot.index, generation);
    try {
      await readyOrAbort(master, fresh);
    } catch (err) {
      const kept = master.slots.length - rolled.length;
      const msg = rolled.length === 0 ? 'reload refused: old workers keep serving' : `reload stopped after ${rolled.length} worker(s): ${kept} old worker(s) keep serving`;
      log('error', msg, { generation, worker: fresh.id, rolled, error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    const old = swap(master, slot, fresh, generation);
    rolled.push(fresh.id);
    if (old !== undefined) {
      draining.push(old.id);
      log('info', 'worker replaced: draining the old one', { generation, worker: fresh.id, old: old.id });
      master.retire(old);
    }
    if (i === 0) afterCanary?.();
  }
  log('info', 'reloaded', { generation, workers: rolled, draining, ms: Date.now() - started });
}

/** Puts `fresh` in the slot and announces it; returns the worker it replaced, if any. */
export function swap(master: MasterProcess, slot: Slot, fresh: WorkerHandle, generation: number): WorkerHandle | undefined {
  // A crash replacement scheduled for this slot would now start an old-generation worker.
  clearTimeout(slot.restartTimer);
  slot.restartTimer = undefined;
  const old = slot.current;
  master.pending.delete(fresh);
  slot.current = fresh;
  slot.generation = generation;
  slot.backoff.reset();
  // Announce before the old worker hears of its drain: the data plane must stop choosing it first.
  master.notify();
  return old;
}

function spawnPending(master: MasterProcess, slot: number, generation: number): WorkerHandle {
  if (master.stopping !== undefined) throw new Error(`app server "${master.name}" is stopping: reload abandoned`);
  const w = master.spawn(slot, generation);
  master.pending.add(w);
  return w;
}

/** Waits for `w` to be ready and still alive; otherwise kills it and throws why. */
async function readyOrAbort(master: MasterProcess, w: WorkerHandle): Promise<void> {
  let failure: unknown;
  try {
    await w.ready;
    if (w.exited) failure = new Error(`worker ${w.config.slot} of the new generation exited during the reload: ${w.lastError ?? 'no error reported'}`);
    else if (master.stopping !== undefined) failure = new Error(`app server "${master.name}" is stopping: reload abandoned`);
  } catch (err) {
    failure = err;
  }
  if (failure === undefined) return;
  master.retire(w);
  await w.exit;
  throw failure;
}
