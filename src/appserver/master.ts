// The app server master (gunicorn's arbiter, puma's cluster parent, pm2's God daemon): keeps
// `workers` processes of one app running on unix sockets, replaces the ones that die, rolls to a
// new generation on reload without dropping a request, and stops them gracefully. The data plane
// reads sockets() and listens to 'change'; it never talks to the workers' processes. In direct mode
// (`listen`, for `portico serve`) there is no data plane: the workers accept on one shared TCP socket.
import { EventEmitter } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { CrashWindow, RestartBackoff } from './backoff.ts';
import { type WorkerState, WorkerHandle } from './worker-handle.ts';
import { socketPath } from './socket-path.ts';
import { rollingReload } from './reload.ts';
import { type WorkerSettings, reloadWithSettings } from './reconfigure.ts';
import { recycleReason, recycleWorker, requestLimit } from './recycle.ts';
import type { TcpAddress } from './ipc.ts';
import { type SharedSocket, bindSharedSocket } from './shared-socket.ts';

export type LogLevel = 'info' | 'warn' | 'error';
export type AppServerLog = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

export interface AppServerOptions {
  name: string;
  /** Absolute path of the app module. */
  module: string;
  workers: number;
  /** Absolute; created (mode 0700) if missing. Worker sockets live here. Unused in direct mode. */
  runtimeDir?: string;
  /**
   * Direct mode (`portico serve`): the workers share one listening TCP socket, bound by the
   * master, and accept themselves, instead of a unix socket each behind the data plane; sockets()
   * is then empty. Port 0 picks a free port; address() tells which.
   */
  listen?: TcpAddress;
  /** How long draining workers may finish in-flight requests before they are killed (ms). */
  shutdownTimeout: number;
  /** A worker silent this long (ms) is killed and replaced; default 30000. */
  workerTimeout?: number;
  /** Recycle a worker after this many requests (gunicorn max_requests); default 0 = never. */
  maxRequests?: number;
  /** Each worker's limit is maxRequests plus a random 0..jitter (gunicorn max_requests_jitter); default 0. */
  maxRequestsJitter?: number;
  /** Recycle a worker whose RSS exceeds this many bytes (pm2 max_memory_restart); default 0 = never. */
  maxMemory?: number;
  log?: AppServerLog;
}

export interface WorkerInfo {
  /** `slot.generation.pid`, as in log lines and the x-portico-worker response header. */
  id: string;
  slot: number;
  generation: number;
  pid: number;
  socket: string;
  state: WorkerState;
  /** Seconds since the worker became ready (0 while it starts). */
  uptime: number;
  /** Responses finished by this process. */
  requests: number;
  inflight: number;
  /** Times this slot's worker died unexpectedly and was replaced. */
  restarts: number;
  /** Resident set size, bytes. */
  rss: number;
  /** p99 event-loop delay over the last heartbeat interval (≤ 1 s), ms. */
  eventLoopLag: number;
}

export interface AppServer extends EventEmitter {
  readonly name: string;
  /** Sockets of ready, non-draining workers: where the data plane may send requests. */
  sockets(): string[];
  /** Direct mode: the address the workers accept on; undefined behind the data plane. */
  address(): TcpAddress | undefined;
  workers(): WorkerInfo[];
  /**
   * Zero-downtime rolling reload; rejects (old workers untouched) if the new code fails to load.
   * `settings` changes the worker count, timeouts and limits on the way (reconfigure.ts); a refused
   * reload leaves them as they were.
   */
  reload(settings?: Partial<WorkerSettings>): Promise<void>;
  /** Graceful: drain every worker, SIGKILL the ones still running after the timeout. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Runtime state of one worker position; survives the processes that fill it. */
export interface Slot {
  readonly index: number;
  generation: number;
  current: WorkerHandle | undefined;
  restarts: number;
  backoff: RestartBackoff;
  restartTimer: NodeJS.Timeout | undefined;
}

export async function startAppServer(options: AppServerOptions): Promise<AppServer> {
  const server = new MasterProcess(resolveOptions(options));
  await server.start();
  return server;
}

export type ResolvedOptions = Required<Omit<AppServerOptions, 'listen'>> & { listen: TcpAddress | undefined };

/** Checks every option (throwing a TypeError naming the field) and fills in the defaults. */
export function resolveOptions(o: AppServerOptions): ResolvedOptions {
  const fail = (field: string, why: string): never => {
    throw new TypeError(`app server "${o.name}": ${field} ${why}`);
  };
  if (!/^[A-Za-z0-9_.-]+$/.test(o.name)) fail('name', 'must be letters, digits, ".", "_" or "-" (it names socket files)');
  if (!isAbsolute(o.module)) fail('module', `must be an absolute path, got ${JSON.stringify(o.module)}`);
  const runtimeDir = o.runtimeDir ?? '';
  if (o.listen === undefined && !isAbsolute(runtimeDir)) fail('runtimeDir', `must be an absolute path, got ${JSON.stringify(o.runtimeDir)}`);
  if (o.listen !== undefined && !(Number.isInteger(o.listen.port) && o.listen.port >= 0 && o.listen.port <= 65535)) fail('listen.port', `must be an integer 0-65535, got ${o.listen.port}`);
  if (!Number.isInteger(o.workers) || o.workers < 1) fail('workers', `must be an integer ≥ 1, got ${o.workers}`);
  if (!(o.shutdownTimeout >= 0)) fail('shutdownTimeout', `must be ≥ 0 ms, got ${o.shutdownTimeout}`);
  const workerTimeout = o.workerTimeout ?? 30_000;
  if (!(workerTimeout > 0)) fail('workerTimeout', `must be > 0 ms, got ${workerTimeout}`);
  const limits = { maxRequests: o.maxRequests ?? 0, maxRequestsJitter: o.maxRequestsJitter ?? 0, maxMemory: o.maxMemory ?? 0 };
  for (const [field, v] of Object.entries(limits)) if (!Number.isInteger(v) || v < 0) fail(field, `must be an integer ≥ 0, got ${v}`);
  return { ...o, ...limits, runtimeDir, listen: o.listen, workerTimeout, log: o.log ?? defaultLog };
}

function defaultLog(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  console.error(`[portico appserver] ${level}: ${msg}${fields === undefined ? '' : ` ${JSON.stringify(fields)}`}`);
}

export function newSlot(index: number, generation: number): Slot {
  return { index, generation, current: undefined, restarts: 0, backoff: new RestartBackoff(), restartTimer: undefined };
}

export class MasterProcess extends EventEmitter implements AppServer {
  readonly name: string;
  /** Swapped whole (never mutated) by a reload with new settings; read at each use, not cached. */
  options: ResolvedOptions;
  readonly slots: Slot[] = [];
  /** New-generation workers of a reload in progress, not yet serving. */
  readonly pending = new Set<WorkerHandle>();
  /** Old workers finishing their in-flight requests. */
  readonly retiring = new Set<WorkerHandle>();
  generation = 1;
  stopping: Promise<void> | undefined;
  #started = false;
  #crashes = new CrashWindow();
  #lastSockets = '';
  #reloads: Promise<unknown> = Promise.resolve();
  #shared: SharedSocket | undefined;
  /** Workers already due for recycling (attempted once, whatever the outcome). */
  #recycling = new WeakSet<WorkerHandle>();
  /** Makes a recycled worker's socket path differ from the one it replaces. */
  #serial = 0;

  constructor(options: ResolvedOptions) {
    super();
    this.name = options.name;
    this.options = options;
  }

  async start(): Promise<void> {
    const { runtimeDir, workers } = this.options;
    if (this.options.listen !== undefined) {
      // Bound before any fork: a port in use fails the start alone and clearly.
      this.#shared = await bindSharedSocket(this.options.listen);
    } else {
      // Sockets are an unauthenticated way into the app: keep the directory private to this user.
      mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
      for (let i = 0; i < workers; i++) {
        // Check every path before forking anything, so a bad runtimeDir fails alone and clearly.
        socketPath(runtimeDir, this.name, i, this.generation);
      }
    }
    for (let i = 0; i < workers; i++) {
      const slot = newSlot(i, this.generation);
      this.slots.push(slot);
      slot.current = this.spawn(i, this.generation);
    }
    const all = this.slots.map((s) => s.current as WorkerHandle);
    try {
      await Promise.all(all.map((w) => w.ready));
    } catch (err) {
      for (const w of all) w.kill();
      await Promise.all(all.map((w) => w.exit));
      this.slots.length = 0;
      this.#shared?.close();
      throw err;
    }
    this.#started = true;
    // A worker that was ready but died while its siblings were still starting had no one to replace it.
    for (const s of this.slots) if (s.current === undefined) s.current = this.spawn(s.index, s.generation);
    this.options.log('info', 'app server started', { workers, ids: all.map((w) => w.id) });
    this.notify();
  }

  sockets(): string[] {
    const out: string[] = [];
    if (this.options.listen !== undefined) return out;
    for (const s of this.slots) if (s.current?.state === 'ready') out.push(s.current.socket);
    return out;
  }

  address(): TcpAddress | undefined {
    return this.#shared?.address;
  }

  workers(): WorkerInfo[] {
    const now = Date.now();
    const info = (w: WorkerHandle, restarts: number): WorkerInfo => ({
      id: w.id, slot: w.config.slot, generation: w.config.generation, pid: w.pid, socket: w.socket, state: w.state,
      uptime: w.readyAt === 0 ? 0 : Math.round((now - w.readyAt) / 100) / 10,
      requests: w.stats.requests, inflight: w.stats.inflight, restarts, rss: w.stats.rss, eventLoopLag: w.stats.eventLoopLag,
    });
    const out: WorkerInfo[] = [];
    for (const s of this.slots) if (s.current !== undefined) out.push(info(s.current, s.restarts));
    for (const w of this.pending) out.push(info(w, 0));
    for (const w of this.retiring) out.push(info(w, this.slots[w.config.slot]?.restarts ?? 0));
    return out;
  }

  reload(settings?: Partial<WorkerSettings>): Promise<void> {
    if (settings === undefined) {
      // One reload at a time: a second request waits, then rolls again onto whatever is on disk then.
      return this.#serialize(() => rollingReload(this));
    }
    // An explicit undefined must not reset a setting to its default: only the fields given count.
    const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
    try {
      resolveOptions({ ...this.options, ...given }); // refused now, before anything waits or rolls
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#serialize(() => reloadWithSettings(this, resolveOptions({ ...this.options, ...given })));
  }

  /** Reloads and recycles touch slots: they run one after the other, never interleaved. */
  #serialize(task: () => Promise<void>): Promise<void> {
    const run = this.#reloads.then(task);
    this.#reloads = run.catch(() => {});
    return run;
  }

  /** On each pong: queue a graceful replacement of a worker past its request or memory limit. */
  #checkRecycle(w: WorkerHandle, limit: number): void {
    if (this.stopping !== undefined || w.state !== 'ready' || this.#recycling.has(w)) return;
    if (this.slots[w.config.slot]?.current !== w) return;
    const reason = recycleReason(w, limit, this.options);
    if (reason === undefined) return;
    this.#recycling.add(w);
    const serial = ++this.#serial;
    this.#serialize(() => recycleWorker(this, w, reason, serial)).catch((err: unknown) => {
      this.options.log('error', 'recycling failed: the old worker keeps serving', { worker: w.id, error: err instanceof Error ? err.message : String(err) });
    });
  }

  stop(timeoutMs = this.options.shutdownTimeout): Promise<void> {
    this.stopping ??= this.#stop(timeoutMs);
    return this.stopping;
  }

  async #stop(timeoutMs: number): Promise<void> {
    const all: WorkerHandle[] = [...this.pending, ...this.retiring];
    for (const s of this.slots) {
      clearTimeout(s.restartTimer);
      if (s.current !== undefined) all.push(s.current);
      s.current = undefined;
    }
    this.notify(); // empty: the data plane stops sending here before the workers stop accepting
    for (const w of all) this.retire(w, timeoutMs);
    await Promise.all(all.map((w) => w.exit));
    this.#shared?.close();
    this.options.log('info', 'app server stopped');
  }

  /** Forks a worker and wires its lifecycle to this master's policies. */
  spawn(slot: number, generation: number, serial = 0): WorkerHandle {
    const listen = this.options.listen;
    const socket = listen === undefined ? socketPath(this.options.runtimeDir, this.name, slot, generation, serial) : '';
    const w = new WorkerHandle(
      { name: this.name, module: this.options.module, socket, listen, slot, generation, shutdownTimeout: this.options.shutdownTimeout },
      this.options.workerTimeout,
      this.#shared?.handle,
    );
    w.on('ready', () => this.notify());
    const limit = requestLimit(this.options);
    if (limit !== Infinity || this.options.maxMemory > 0) w.on('stats', () => this.#checkRecycle(w, limit));
    w.on('exit', (code, signal) => this.#onExit(w, code, signal));
    w.on('unresponsive', (ms) => {
      this.options.log('error', `worker unresponsive for ${ms} ms: killing it`, { worker: w.id, slot, pid: w.pid, state: w.state, workerTimeout: this.options.workerTimeout });
      // Told first, so the data plane answers the worker's in-flight requests with 504 rather
      // than retrying them on a sibling: a request that hung one worker would hang the next.
      this.emit('worker-timeout', w.socket);
      w.kill();
    });
    w.on('drain-timeout', () => {
      this.options.log('warn', 'worker still draining after the shutdown timeout: killing it', { worker: w.id, slot, pid: w.pid });
    });
    return w;
  }

  /** Takes a worker out of service: drain it if it serves, kill it if it never did. */
  retire(w: WorkerHandle, timeoutMs = this.options.shutdownTimeout): void {
    this.pending.delete(w);
    if (w.exited) return;
    this.retiring.add(w);
    if (w.state === 'starting') w.kill();
    else w.shutdown(timeoutMs);
  }

  /** Emits 'change' when the set of ready sockets differs from the last one announced. */
  notify(): void {
    const sockets = this.sockets();
    const key = sockets.join('\n');
    if (key === this.#lastSockets) return;
    this.#lastSockets = key;
    this.emit('change', sockets);
  }

  #onExit(w: WorkerHandle, code: number | null, signal: NodeJS.Signals | null): void {
    // A SIGKILLed worker cannot remove its socket file; a later worker of the slot would reuse it.
    if (w.socket !== '' && ![...this.#live()].some((o) => o !== w && o.socket === w.socket)) rmSync(w.socket, { force: true });
    if (this.retiring.delete(w) || this.pending.delete(w)) return;
    const slot = this.slots[w.config.slot];
    if (slot === undefined || slot.current !== w) return;
    slot.current = undefined;
    this.notify();
    if (!this.#started || this.stopping !== undefined) return;
    this.#replace(slot, w, code, signal);
  }

  #replace(slot: Slot, dead: WorkerHandle, code: number | null, signal: NodeJS.Signals | null): void {
    const now = Date.now();
    slot.restarts++;
    const count = this.#crashes.record(now);
    const delay = slot.backoff.next(dead.readyAt === 0 ? 0 : now - dead.readyAt);
    const fields = { worker: dead.id, slot: slot.index, pid: dead.pid, code, signal, lastError: dead.lastError, restartIn: delay, restarts: slot.restarts };
    if (this.#crashes.looping(count)) {
      this.options.log('error', `app "${this.name}" is crash-looping: ${count} worker crashes in ${this.#crashes.windowMs / 1000} s; backing off`, fields);
    } else {
      this.options.log('warn', 'worker exited unexpectedly: replacing it', fields);
    }
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (this.stopping !== undefined || slot.current !== undefined) return;
      slot.current = this.spawn(slot.index, slot.generation);
    }, delay);
  }

  *#live(): Iterable<WorkerHandle> {
    for (const s of this.slots) if (s.current !== undefined) yield s.current;
    yield* this.pending;
    yield* this.retiring;
  }
}
