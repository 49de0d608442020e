// The contract between the master and its workers: the config a worker is forked with and the
// messages they exchange over the fork() IPC channel (JSON serialization, so plain data only).

/** Everything a worker needs, passed in one env var so argv stays readable in `ps`. */
export interface WorkerConfig {
  name: string;
  /** Absolute path of the app module. */
  module: string;
  /** Absolute unix socket path the worker listens on. */
  socket: string;
  slot: number;
  generation: number;
  /** The worker's own drain deadline, so it cannot linger even if the master is gone. */
  shutdownTimeout: number;
}

export const WORKER_CONFIG_ENV = 'PORTICO_WORKER_CONFIG';

/** EX_CONFIG (sysexits.h): the app cannot be loaded, so restarting the same code will not help. */
export const EXIT_LOAD_ERROR = 78;

export type MasterMessage =
  | { type: 'ping'; seq: number }
  | { type: 'shutdown' };

export type WorkerMessage =
  | { type: 'ready'; socket: string; pid: number }
  | { type: 'pong'; seq: number }
  /** Importing the app module (or listening) failed; the worker exits with EXIT_LOAD_ERROR. */
  | { type: 'load-error'; message: string; stack?: string }
  /** An uncaught exception is about to kill the worker: the master keeps the text for its logs. */
  | { type: 'fatal'; message: string; stack?: string };

const WORKER_TYPES = new Set(['ready', 'pong', 'load-error', 'fatal']);
const MASTER_TYPES = new Set(['ping', 'shutdown']);

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
