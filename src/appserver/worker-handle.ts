// The master's view of one worker process: fork it, follow its lifecycle (starting → ready →
// draining → exited), watch its heartbeat, and stop or kill it. Policy (restart, reload) lives in
// the master; this file only reports what happened.
import { type ChildProcess, fork } from 'node:child_process';
import type net from 'node:net';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type MasterMessage, type TcpAddress, type WorkerConfig, type WorkerStats, EXIT_LOAD_ERROR, WORKER_CONFIG_ENV, isWorkerMessage } from './ipc.ts';

export type WorkerState = 'starting' | 'ready' | 'draining';

const WORKER_ENTRY = fileURLToPath(new URL('./worker-entry.ts', import.meta.url));

/** The app could not be imported (or the worker could not listen): restarting will not help. */
export class AppLoadError extends Error {
  readonly code = 'PORTICO_APP_LOAD';
  /** The stack trace from inside the worker, where the import failed. */
  readonly appStack: string | undefined;

  constructor(message: string, appStack?: string) {
    super(message);
    this.name = 'AppLoadError';
    this.appStack = appStack;
  }
}

export interface WorkerHandleEvents {
  ready: [];
  exit: [code: number | null, signal: NodeJS.Signals | null];
  /** No pong for `silentMs`: the event loop is stuck (or the worker never became ready). */
  unresponsive: [silentMs: number];
  /** Still running `shutdownTimeout` after being asked to drain: about to be SIGKILLed. */
  'drain-timeout': [];
  /** A pong brought fresh figures (`stats`). */
  stats: [];
}

export class WorkerHandle extends EventEmitter<WorkerHandleEvents> {
  readonly config: WorkerConfig;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly spawnedAt = Date.now();
  state: WorkerState = 'starting';
  readyAt = 0;
  exited = false;
  /** The last error the worker reported (fatal or load-error), or why it was killed. */
  lastError: string | undefined;
  /** Direct mode: the TCP address the worker accepts on (the real port when 0 was asked). */
  address: TcpAddress | undefined;
  /** The worker's own figures from its last pong (zeros until the first one). */
  stats: WorkerStats = { requests: 0, inflight: 0, rss: 0, eventLoopLag: 0 };
  /** Settles when the worker is ready; rejects if it exits first. */
  readonly ready: Promise<void>;
  /** Resolves once the process has exited. */
  readonly exit: Promise<void>;

  #loadError: AppLoadError | undefined;
  #lastSeen = Date.now();
  #seq = 0;
  #heartbeat: NodeJS.Timeout;
  #killTimer: NodeJS.Timeout | undefined;

  /** `sharedSocket`: direct mode's listening handle (shared-socket.ts), sent when the worker asks. */
  constructor(config: WorkerConfig, timeout: number, sharedSocket?: object) {
    super();
    this.config = config;
    // Same process group: Ctrl-C reaches workers too (they drain), and no worker outlives a terminal.
    // The master's own flags (--test, --inspect, --watch) must not leak into workers.
    this.child = fork(WORKER_ENTRY, [], {
      execPath: process.execPath,
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: false,
      env: { ...process.env, [WORKER_CONFIG_ENV]: JSON.stringify(config) },
    });
    this.pid = this.child.pid ?? -1;
    let settle: { resolve: () => void; reject: (err: Error) => void };
    this.ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    this.ready.catch(() => {}); // callers that do not wait on it must not see an unhandled rejection
    let exited: () => void;
    this.exit = new Promise<void>((resolve) => (exited = resolve));
    const finish = (code: number | null, signal: NodeJS.Signals | null, startError?: Error) => {
      if (this.exited) return;
      this.exited = true;
      clearInterval(this.#heartbeat);
      clearTimeout(this.#killTimer);
      if (this.state === 'starting') settle.reject(startError ?? this.#startError(code, signal));
      this.emit('exit', code, signal);
      exited();
    };
    this.child.once('exit', (code, signal) => finish(code, signal));
    this.child.on('error', (err) => {
      this.lastError ??= err.message;
      // A process that never spawned has no 'exit' to wait for; sends to a dead one are no-ops.
      if (this.child.pid === undefined) finish(null, null, new Error(`cannot start a worker for app "${config.name}": ${err.message}`));
    });
    this.child.on('message', (msg: unknown) => {
      if (!isWorkerMessage(msg)) return;
      this.#lastSeen = Date.now();
      if (msg.type === 'ready' && this.state === 'starting') {
        this.address = msg.address;
        this.state = 'ready';
        this.readyAt = Date.now();
        settle.resolve();
        this.emit('ready');
      } else if (msg.type === 'want-socket' && sharedSocket !== undefined && this.child.connected) {
        // child_process sends a raw TCP handle as 'net.Native' and leaves the master's copy open.
        this.child.send({ type: 'socket' } satisfies MasterMessage, sharedSocket as net.Server, () => {});
      } else if (msg.type === 'pong' && msg.stats !== undefined) {
        this.stats = msg.stats;
        this.emit('stats');
      } else if (msg.type === 'load-error') {
        this.lastError = msg.message;
        this.#loadError = new AppLoadError(`app "${config.name}" failed to load ${config.module}: ${msg.message}`, msg.stack);
      } else if (msg.type === 'fatal') {
        this.lastError = msg.message;
      }
    });
    // One timer both pings and checks: a starting worker must become ready within `timeout`, a
    // running one must answer some ping within `timeout` (gunicorn's --timeout). At least once a
    // second, so the figures in `portico status` (carried by the pongs) are never staler than that.
    this.#heartbeat = setInterval(() => this.#beat(timeout), Math.max(10, Math.min(1_000, Math.floor(timeout / 3))));
    this.#heartbeat.unref();
  }

  /** `slot.generation.pid`: the id in log lines and in the x-portico-worker response header. */
  get id(): string {
    return `${this.config.slot}.${this.config.generation}.${this.pid}`;
  }

  get socket(): string {
    return this.config.socket;
  }

  /** Asks the worker to drain; SIGKILLs it if it is still running after `timeoutMs`. */
  shutdown(timeoutMs: number): void {
    if (this.exited) return;
    this.state = 'draining';
    this.send({ type: 'shutdown', timeoutMs });
    if (this.#killTimer === undefined) {
      this.#killTimer = setTimeout(() => {
        this.emit('drain-timeout');
        this.kill('drain exceeded the shutdown timeout');
      }, timeoutMs);
      this.#killTimer.unref();
    }
  }

  kill(reason?: string): void {
    if (this.exited) return;
    if (reason !== undefined) this.lastError = reason;
    this.child.kill('SIGKILL');
  }

  send(msg: MasterMessage): void {
    if (!this.child.connected) return;
    // The callback turns a send racing the worker's death into a no-op instead of an 'error' event.
    this.child.send(msg, () => {});
  }

  #beat(timeout: number): void {
    if (this.exited) return;
    const silent = Date.now() - this.#lastSeen;
    if (silent > timeout) {
      clearInterval(this.#heartbeat);
      this.lastError = this.state === 'starting' ? `not ready after ${silent} ms` : `no heartbeat for ${silent} ms`;
      this.emit('unresponsive', silent);
      return;
    }
    if (this.state !== 'starting') this.send({ type: 'ping', seq: ++this.#seq });
  }

  #startError(code: number | null, signal: NodeJS.Signals | null): Error {
    if (this.#loadError !== undefined) return this.#loadError;
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
    const why = this.lastError !== undefined ? `: ${this.lastError}` : '';
    if (code === EXIT_LOAD_ERROR) return new AppLoadError(`app "${this.config.name}" failed to load ${this.config.module}${why}`);
    return new Error(`worker ${this.config.slot} of app "${this.config.name}" ${how} before it was ready${why}`);
  }
}

