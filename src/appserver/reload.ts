// Zero-downtime rolling reload (gunicorn's HUP, puma's phased restart), without pm2#3143's lost
// requests: old workers keep serving until a complete new generation is ready; only then does the
// data plane switch ('change', new sockets only), and only after that are the old workers told to
// drain, so every request already sent to them finishes.
import type { MasterProcess } from './master.ts';
import type { WorkerHandle } from './worker-handle.ts';

export async function rollingReload(master: MasterProcess): Promise<void> {
  const log = master.options.log;
  const generation = ++master.generation;
  const started = Date.now();
  // Canary: one worker of the new code first. A module that no longer imports costs one process,
  // not a whole generation, and the old workers never notice.
  const canary = spawnPending(master, 0, generation);
  await readyOrAbort(master, [canary], generation);
  const rest: WorkerHandle[] = [];
  for (let i = 1; i < master.slots.length; i++) rest.push(spawnPending(master, i, generation));
  const fresh = [canary, ...rest];
  await readyOrAbort(master, fresh, generation);
  // Swap every slot at once, announce, then drain the old generation.
  const old: WorkerHandle[] = [];
  for (const slot of master.slots) {
    const w = fresh[slot.index];
    clearTimeout(slot.restartTimer);
    slot.restartTimer = undefined;
    if (slot.current !== undefined) old.push(slot.current);
    master.pending.delete(w);
    slot.current = w;
    slot.generation = generation;
    slot.backoff.reset();
  }
  master.notify();
  for (const w of old) master.retire(w);
  log('info', 'reloaded', { generation, pids: fresh.map((w) => w.pid), draining: old.map((w) => w.pid), ms: Date.now() - started });
}

function spawnPending(master: MasterProcess, slot: number, generation: number): WorkerHandle {
  if (master.stopping !== undefined) throw new Error(`app server "${master.name}" is stopping: reload abandoned`);
  const w = master.spawn(slot, generation);
  master.pending.add(w);
  return w;
}

/** Waits for all of `workers` to be ready and still alive; otherwise kills them all and throws. */
async function readyOrAbort(master: MasterProcess, workers: WorkerHandle[], generation: number): Promise<void> {
  let failure: unknown;
  try {
    await Promise.all(workers.map((w) => w.ready));
    const dead = workers.find((w) => w.exited);
    if (dead !== undefined) failure = new Error(`worker ${dead.config.slot} of the new generation exited during the reload: ${dead.lastError ?? 'no error reported'}`);
    else if (master.stopping !== undefined) failure = new Error(`app server "${master.name}" is stopping: reload abandoned`);
  } catch (err) {
    failure = err;
  }
  if (failure === undefined) return;
  for (const w of workers) master.retire(w);
  await Promise.all(workers.map((w) => w.exit));
  master.options.log('error', 'reload refused: old workers keep serving', { generation, error: failure instanceof Error ? failure.message : String(failure) });
  throw failure;
}
