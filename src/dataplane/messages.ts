// The IPC between the data-plane primary and its replicas (node:child_process fork channel).
// A replica says `hello` once its listener is attached (messages sent before that could be lost
// while its ES modules load), then gets `init`; everything after is request/answer or a push.
import type { PurgeRequest } from '../cache/index.ts';

/** Primary → replica. */
export type ToReplica =
  /** Ports the primary's listeners bound (port 0 resolved), in config order; the worker apps' sockets. */
  | { type: 'init'; ports: number[]; sockets: Record<string, string[]> }
  /** One worker-mode app's ready sockets changed (restart, reload, crash). */
  | { type: 'sockets'; app: string; sockets: string[] }
  /** Requests with an `id`, each answered once by an `answer` with the same id. */
  | { type: 'reload'; id: number }
  /** The admin API's `POST /cache/purge`: memory caches are per process. */
  | { type: 'purge'; id: number; what: PurgeRequest }
  /** The admin API's `GET /status`: pools, caches and WebSocket counts are per process. */
  | { type: 'status'; id: number }
  /** `portico pool drain|undrain`: each process has its own pools (pushed; no answer). */
  | { type: 'drain'; pool: string; server: string; draining: boolean }
  | { type: 'stop' };

export type ReplicaRequest = Extract<ToReplica, { id: number }>;
/** A request as the primary asks it: the id is the handle's. */
export type ReplicaAsk = ReplicaRequest extends infer R ? R extends { id: number } ? Omit<R, 'id'> : never : never;

/** Replica → primary. */
export type FromReplica =
  | { type: 'hello' }
  | { type: 'ready' }
  /** error null: done; `value` is what a purge dropped, `status` the replica's own `Stack.status()`. */
  | { type: 'answer'; id: number; error: string | null; value?: number; status?: Record<string, unknown> };

/** The replica entry reads its config file from here. */
export const CONFIG_ENV = 'PORTICO_DATAPLANE_CONFIG';
