// The contract between the master and its workers: the config a worker is forked with and the
// messages they exchange over the fork() IPC channel (JSON serialization, so plain data only).

/** Everything a worker needs, passed in one env var so argv stays readable in `ps`. */
export interface WorkerConfig {
  name: string;
  /** Absolute path of the app module. */
  module: string;
  /** Absolute unix socket path the worker listens on; empty in direct mode. */
  socket: string;
  /**
   * Direct mode: accept on the master's shared TCP socket (shared-socket.ts) instead; the worker
   * asks for it ('want-socket') once the app is loaded.
   */
  listen?: TcpAddress;
  slot: number;
  generation: number;
  /** The worker's own drain deadline, so it cannot linger even if the master is gone. */
  shutdownTimeout: number;
}

export interface TcpAddress {
  host: string;
  port: number;
}

export const WORKER_CONFIG_ENV = 'PORTICO_WORKER_CONFIG';

/** EX_CONFIG (sysexits.h): the app cannot be loaded, so restarting the same code will not help. */
export const EXIT_LOAD_ERROR = 78;

export type MasterMessage =
  | { type: 'ping'; seq: number }
  /** `timeoutMs`: the drain deadline in force now (a reload may have changed it since the fork). */
  | { type: 'shutdown'; timeoutMs?: number }
  /** Carries the shared listening socket as its send handle (direct mode). */
  | { type: 'socket' };

/** What a worker measures about itself, sent with every pong (gunicorn/pm2-style reporting). */
export interface WorkerStats {
  /** Responses finished since the worker started. */
  requests: number;
  inflight: number;
  /** Resident set size, bytes. */
  rss: number;
  /** p99 event-loop delay over the last heartbeat interval, ms (perf_hooks.monitorEventLoopDelay). */
  eventLoopLag: number;
}

export type WorkerMessage =
  | { type: 'ready'; socket: string; pid: number; address?: TcpAddress }
  | { type: 'pong'; seq: number; stats?: WorkerStats }
  /** Direct mode: the app is loaded, send the listening socket. Asked, not pushed: a message sent
   *  before the worker's module has registered its listener would be lost. */
  | { type: 'want-socket' }
  /** Importing the app module (or listening) failed; the worker exits with EXIT_LOAD_ERROR. */
  | { type: 'load-error'; message: string; stack?: string }
  /** An uncaught exception is about to kill the worker: the master keeps the text for its logs. */
  | { type: 'fatal'; message: string; stack?: string };

const WORKER_TYPES = new Set(['ready', 'pong', 'want-socket', 'load-error', 'fatal']);
const MASTER_TYPES = new Set(['ping', 'shutdown', 'socket']);

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && WORKER_TYPES.has((m as { type?: unknown }).type as string);
}

export function isMasterMessage(m: unknown): m is MasterMessage {
  return typeof m === 'object' && m !== null && MASTER_TYPES.has((m as { type?: unknown }).type as string);
}

/** Turns anything thrown into the message/stack pair sent over IPC. */
export function describeError(err: unknown): { message: string; stack?: string } {
  if (err instanceof Error) return { message: err.message, stack: err.stack };
  return { message: String(err) };
}
