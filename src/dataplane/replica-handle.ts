// The primary's handle on one replica process: fork it, hand it the ports and sockets, restart it
// with backoff when it dies (src/appserver/backoff.ts, as for app workers), reload and stop it.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { RestartBackoff } from '../appserver/backoff.ts';
import type { Log } from '../observability/logger.ts';
import { CONFIG_ENV, type FromReplica, type ReplicaAsk, type ToReplica } from './messages.ts';

const ENTRY = fileURLToPath(new URL('./replica-entry.ts', import.meta.url));

export type ReplicaState = 'starting' | 'ready' | 'restarting' | 'stopping' | 'stopped';

export interface ReplicaStatus {
  role: 'replica';
  slot: number;
  pid: number | null;
  state: ReplicaState;
  uptime: number;
  restarts: number;
}

export interface Answer { error: string | null; value?: number; status?: Record<string, unknown> }

export interface ReplicaInit {
  configFile: string;
  /** Called at every (re)start: the ports and the worker sockets as they are now. */
  init(): Extract<ToReplica, { type: 'init' }>;
  log: Log;
}

/** Emits 'ready' each time the process is serving, 'exit' (code, signal) each time it dies. */
export class ReplicaHandle extends EventEmitter {
  readonly slot: number;
  private readonly options: ReplicaInit;
  private readonly backoff = new RestartBackoff();
  private child: ChildProcess | null = null;
  private state: ReplicaState = 'stopped';
  private startedAt = 0;
  private restarts = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The process said hello: its IPC listener exists, messages to it are not lost. */
  private greeted = false;
  private nextId = 0;
  private readonly pending = new Map<number, (answer: Answer) => void>();

  constructor(slot: number, options: ReplicaInit) {
    super();
    this.slot = slot;
    this.options = options;
  }

  start(): void {
    this.timer = null;
    this.greeted = false;
    this.state = 'starting';
    this.startedAt = Date.now();
    // Same Node binary and flags as the primary (type stripping, --cpu-prof …).
    const child = fork(ENTRY, [], { execArgv: process.execArgv, env: { ...process.env, [CONFIG_ENV]: this.options.configFile } });
    this.child = child;
    child.on('message', (m: FromReplica) => this.onMessage(m));
    // A send racing the replica's death (EPIPE on the IPC channel) is emitted here; unheard, it
    // would end the primary. The 'exit' that follows restarts the replica.
    child.on('error', (err) => this.options.log('warn', 'data-plane replica IPC error', { slot: this.slot, pid: child.pid, err: err.message }));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
  }

  private onMessage(m: FromReplica): void {
    if (m.type === 'hello') {
      this.greeted = true;
      this.send(this.options.init());
    }
    else if (m.type === 'ready') {
      this.state = 'ready';
      this.options.log('info', 'data-plane replica ready', { slot: this.slot, pid: this.child?.pid });
      this.emit('ready');
    } else if (m.type === 'answer') {
      this.pending.get(m.id)?.({ error: m.error, value: m.value, status: m.status });
      this.pending.delete(m.id);
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = null;
    for (const done of this.pending.values()) done({ error: 'the process exited before it answered' });
    this.pending.clear();
    this.emit('exit', code, signal);
    if (this.state === 'stopping' || this.state === 'stopped') {
      this.state = 'stopped';
      return;
    }
    const uptime = Date.now() - this.startedAt;
    const delay = this.backoff.next(uptime);
    this.state = 'restarting';
    this.restarts++;
    this.options.log('warn', 'data-plane replica died; restarting', { slot: this.slot, pid: child.pid, code, signal, delayMs: delay });
    this.timer = setTimeout(() => this.start(), delay);
  }

  /** Only once the replica said hello: before that its message listener may not exist yet. */
  send(m: ToReplica): void {
    if (this.greeted && this.child?.connected === true) this.child.send(m);
  }

  signal(sig: NodeJS.Signals): void {
    this.child?.kill(sig);
  }

  /**
   * A request to a serving replica; error null when it was done. A reload answers why the replica
   * kept its old config; one not serving reads the config when it starts. With `timeoutMs`, a
   * replica that does not answer in time (stuck event loop) answers an error instead, so a caller
   * such as `GET /status` never hangs on it; a late answer is then dropped.
   */
  ask(request: ReplicaAsk, timeoutMs?: number): Promise<Answer> {
    if (this.state !== 'ready' || this.child === null) return Promise.resolve({ error: `not serving (${this.state})` });
    const id = ++this.nextId;
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? null : setTimeout(() => {
        this.pending.delete(id);
        resolve({ error: `no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      this.pending.set(id, (answer) => {
        if (timer !== null) clearTimeout(timer);
        resolve(answer);
      });
      this.send({ ...request, id } as ToReplica);
    });
  }

  /** Graceful: the replica stops accepting and finishes in-flight requests within `timeout`; killed past a margin. */
  async stop(timeout: number): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const child = this.child;
    this.state = child === null ? 'stopped' : 'stopping';
    if (child === null) return;
    const exited = once(child, 'exit');
    // Not greeted yet: it serves nothing, and a message could be lost; SIGTERM stops it either way.
    if (this.greeted) this.send({ type: 'stop' });
    else child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), timeout + 2_000);
    await exited;
    clearTimeout(kill);
  }

  status(): ReplicaStatus {
    return {
      role: 'replica',
      slot: this.slot,
      pid: this.child?.pid ?? null,
      state: this.state,
      uptime: this.child === null ? 0 : (Date.now() - this.startedAt) / 1000,
      restarts: this.restarts,
    };
  }
}
