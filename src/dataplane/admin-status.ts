// The primary's `GET /status` with `processes` > 1: its own status with every serving replica's
// counters summed in (status-merge.ts), a `dataPlane[]` entry per process with its own counters,
// and `aggregate` saying how many processes the sums cover. A replica that is not serving
// (starting, restarting) is not asked; one that does not answer within STATUS_TIMEOUT_MS is left
// out and its entry says why: an operator's status never hangs on a stuck process.
import type { Stack } from '../stack.ts';
import type { ReplicaHandle } from './replica-handle.ts';
import { mergeStatus, poolRequests, PER_PROCESS_KEYS } from './status-merge.ts';

export const STATUS_TIMEOUT_MS = 1_000;

type Obj = Record<string, unknown>;

const counters = (status: Obj): Obj => ({
  requests: poolRequests(status),
  ...Object.fromEntries(PER_PROCESS_KEYS.map((k) => [k, status[k]])),
});

export async function dataPlaneStatus(stack: Stack, replicas: readonly ReplicaHandle[], timeoutMs = STATUS_TIMEOUT_MS): Promise<Obj> {
  const own = stack.status();
  const answers = await Promise.all(replicas.map(async (r) => {
    const entry = r.status();
    const answer = await r.ask({ type: 'status' }, timeoutMs);
    return { entry, status: answer.error === null ? answer.status : undefined, error: answer.error ?? 'no status in the answer' };
  }));
  const counted = answers.filter((a) => a.status !== undefined);
  return {
    ...mergeStatus([{ slot: 0, status: own }, ...counted.map((a) => ({ slot: a.entry.slot, status: a.status! }))]),
    // The pools, caches, websockets and inProcessApps counters above sum `processes` of the `of` processes.
    aggregate: { processes: 1 + counted.length, of: 1 + replicas.length },
    dataPlane: [
      {
        role: 'primary', slot: 0, pid: process.pid, state: 'ready', uptime: (Date.now() - stack.startedAt) / 1000, restarts: 0,
        counted: true, counters: counters(own),
      },
      ...answers.map((a) => (a.status !== undefined
        ? { ...a.entry, counted: true, counters: counters(a.status) }
        : { ...a.entry, counted: false, error: a.error })),
    ],
  };
}
