// The app server master (gunicorn's arbiter, puma's cluster parent, pm2's God daemon): keeps
// `workers` processes of one app running on unix sockets, replaces the ones that die, rolls to a
// new generation on reload without dropping a request, and stops them gracefully. The data plane
// reads sockets() and listens to 'change'; it never talks to the workers' processes.
import { EventEmitter } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { CrashWindow, RestartBackoff } from './backoff.ts';
import { type WorkerState, WorkerHandle } from './worker-handle.ts';
import { socketPath } from './socket-path.ts';
import { rollingReload } from './reload.ts';

export type LogLevel = 'info' | 'warn' | 'error';
export type AppServerLog = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

export interface AppServerOptions {
  name: string;
  /** Absolute path of the app module. */
  module: string;
  workers: number;
  /** Absolute; created (mode 0700) if missing. Worker sockets live here. */
  runtimeDir: string;
  /** How long draining workers may finish in-flight requests before they are killed (ms). */
  shutdownTimeout: number;
  /** A worker silent this long (ms) is killed and replaced; default 30000. */
  workerTimeout?: number;
  log?: AppServerLog;
}

export interface WorkerInfo {
  slot: number;
  generation: number;
  pid: number;
  socket: string;
  state: WorkerState;
  restarts: number;
}

export interface AppServer extends EventEmitter {
  readonly name: string;
  /** Sockets of ready, non-draining workers: where the data plane may send requests. */
  sockets(): string[];
  workers(): WorkerInfo[];
  /** Zero-downtime rolling reload; rejects (old workers untouched) if the new code fails to load. */
  reload(): Promise<void>;
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
  const server = new MasterProcess(validate(options));
  await server.start();
  return server;
}

type ResolvedOptions = Required<AppServerOptions>;

function validate(o: AppServerOptions): ResolvedOptions {
  const fail = (field: string, why: string): never => {
    throw new TypeError(`app server "${o.name}": ${field} ${why}`);
  };
  if (!/^[A-Za-z0-9_.-]+$/.test(o.name)) fail('name', 'must be letters, digits, ".", "_" or "-" (it names socket files)');
  if (!isAbsolute(o.module)) fail('module', `must be an absolute path, got ${JSON.stringify(o.module)}`);
  if (!isAbsolute(o.runtimeDir)) fail('runtimeDir', `must be an absolute path, got ${JSON.stringify(o.runtimeDir)}`);
  if (!Number.isInteger(o.workers) || o.workers < 1) fail('workers', `must be an integer ≥ 1, got ${o.workers}`);
  if (!(o.shutdownTimeout >= 0)) fail('shutdownTimeout', `must be ≥ 0 ms, got ${o.shutdownTimeout}`);
  const workerTimeout = o.workerTimeout ?? 30_000;
  if (!(workerTimeout > 0)) fail('workerTimeout', `must be > 0 ms, got ${workerTimeout}`);
  return { ...o, workerTimeout, log: o.log ?? defaultLog };
}

function defaultLog(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  console.error(`[portico appserver] ${level}: ${msg}${fields === undefined ? '' : ` ${JSON.stringify(fields)}`}`);
}

export class MasterProcess extends EventEmitter implements AppServer {
  readonly name: string;
  readonly options: ResolvedOptions;
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

  constructor(options: ResolvedOptions) {
    super();
    this.name = options.name;
    this.options = options;
  }

  async start(): Promise<void> {
    const { runtimeDir, workers } = this.options;
    // Sockets are an unauthenticated way into the app: keep the directory private to this user.
    mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
    for (let i = 0; i < workers; i++) {
      // Check every path before forking anything, so a bad runtimeDir fails alone and clearly.
      socketPath(runtimeDir, this.name, i, this.generation);
    }
    for (let i = 0; i < workers; i++) {
      const slot: Slot = { index: i, generation: this.generation, current: undefined, restarts: 0, backoff: new RestartBackoff(), restartTimer: undefined };
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
      throw err;
    }
    this.#started = true;
    // A worker that was ready but died while its siblings were still starting had no one to replace it.
    for (const s of this.slots) if (s.current === undefined) s.current = this.spawn(s.index, s.generation);
    this.options.log('info', 'app server started', { workers, pids: all.map((w) => w.pid) });
    this.notify();
  }

  sockets(): string[] {
    const out: string[] = [];
    for (const s of this.slots) if (s.current?.state === 'ready') out.push(s.current.socket);
    return out;
  }

  workers(): WorkerInfo[] {
    const info = (w: WorkerHandle, restarts: number): WorkerInfo => ({
      slot: w.config.slot, generation: w.config.generation, pid: w.pid, socket: w.socket, state: w.state, restarts,
    });
    const out: WorkerInfo[] = [];
    for (const s of this.slots) if (s.current !== undefined) out.push(info(s.current, s.restarts));
    for (const w of this.pending) out.push(info(w, 0));
    for (const w of this.retiring) out.push(info(w, this.slots[w.config.slot]?.restarts ?? 0));
    return out;
  }

  reload(): Promise<void> {
    // One reload at a time: a second request waits, then rolls again onto whatever is on disk then.
    const run = this.#reloads.then(() => rollingReload(this));
    this.#reloads = run.catch(() => {});
    return run;
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
    this.options.log('info', 'app server stopped');
  }

  /** Forks a worker and wires its lifecycle to this master's policies. */
  spawn(slot: number, generation: number): WorkerHandle {
    const socket = socketPath(this.options.runtimeDir, this.name, slot, generation);
    const w = new WorkerHandle(
      { name: this.name, module: this.options.module, socket, slot, generation, shutdownTimeout: this.options.shutdownTimeout },
      this.options.workerTimeout,
    );
    w.on('ready', () => this.notify());
    w.on('exit', (code, signal) => this.#onExit(w, code, signal));
    w.on('unresponsive', (ms) => {
      this.options.log('error', `worker unresponsive for ${ms} ms: killing it`, { slot, pid: w.pid, state: w.state, workerTimeout: this.options.workerTimeout });
      w.kill();
    });
    w.on('drain-timeout', () => {
      this.options.log('warn', 'worker still draining after the shutdown timeout: killing it', { slot, pid: w.pid });
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
    if (![...this.#live()].some((o) => o !== w && o.socket === w.socket)) rmSync(w.socket, { force: true });
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
    const fields = { slot: slot.index, pid: dead.pid, code, signal, lastError: dead.lastError, restartIn: delay, restarts: slot.restarts };
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
