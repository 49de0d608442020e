// Recycling (gunicorn's max_requests + max_requests_jitter, pm2's max_memory_restart): a worker
// past its request count or RSS limit is replaced gracefully, like one slot of a rolling reload:
// the new worker (same code generation) is ready before the old one leaves the pool and drains.
// The jitter spreads the limits so that workers started together are not all recycled together.
import { randomInt } from 'node:crypto';
import type { MasterProcess } from './master.ts';
import { swap } from './reload.ts';
import type { WorkerHandle } from './worker-handle.ts';

export interface RecycleLimits {
  /** Requests a worker serves before it is replaced; 0 = never. */
  maxRequests: number;
  /** Up to this many more requests, drawn per worker. */
  maxRequestsJitter: number;
  /** RSS in bytes above which a worker is replaced; 0 = never. */
  maxMemory: number;
}

/** The request count at which a new worker is recycled: maxRequests plus its own jitter. */
export function requestLimit(limits: RecycleLimits): number {
  if (limits.maxRequests <= 0) return Infinity;
  return limits.maxRequests + (limits.maxRequestsJitter > 0 ? randomInt(limits.maxRequestsJitter + 1) : 0);
}

/** Why `w` is due for recycling, from its last pong; undefined if it is not. */
export function recycleReason(w: WorkerHandle, requestLimitOfW: number, limits: RecycleLimits): string | undefined {
  if (w.stats.requests >= requestLimitOfW) return `served ${w.stats.requests} requests (maxRequests ${limits.maxRequests}, this worker's limit ${requestLimitOfW})`;
  if (limits.maxMemory > 0 && w.stats.rss > limits.maxMemory) return `RSS ${w.stats.rss} bytes over maxMemory ${limits.maxMemory}`;
  return undefined;
}

/**
 * Replaces `old` in its slot with a fresh worker of the same generation. If the fresh one does
 * not become ready (the code on disk no longer loads, say), the old one keeps serving: it is
 * logged, and never retried for the same worker, so a broken deploy cannot spawn in a loop.
 */
export async function recycleWorker(master: MasterProcess, old: WorkerHandle, reason: string, serial: number): Promise<void> {
  const slot = master.slots[old.config.slot];
  if (slot === undefined || slot.current !== old || old.exited || master.stopping !== undefined) return;
  const log = master.options.log;
  const fresh = master.spawn(slot.index, slot.generation, serial);
  master.pending.add(fresh);
  log('info', 'recycling worker: starting its replacement', { worker: old.id, reason, replacement: fresh.id });
  try {
    await fresh.ready;
    if (fresh.exited) throw new Error(`the replacement exited: ${fresh.lastError ?? 'no error reported'}`);
  } catch (err) {
    master.retire(fresh);
    log('error', 'recycling failed: the old worker keeps serving', { worker: old.id, error: err instanceof Error ? err.message : String(err) });
    return;
  }
  // The old worker may have died, or a reload replaced it, while the new one started.
  if (master.stopping !== undefined || slot.current !== old) {
    master.retire(fresh);
    return;
  }
  swap(master, slot, fresh, slot.generation);
  master.retire(old);
  log('info', 'worker recycled', { worker: old.id, replacement: fresh.id });
}
