// The stack's in-process apps (runtime state, kept across config snapshots like the worker
// masters): imported at start, re-imported on reload, and their route handlers built per snapshot.
import type { ResolvedConfig } from '../../config/resolved.ts';
import type { Handler } from '../../http/types.ts';
import { ServiceUnavailableError } from '../../http/errors.ts';
import type { Log } from '../../observability/logger.ts';
import { type FetchFn, InProcessApp, type InProcessStatus } from './in-process-app.ts';
import { inProcessHandler } from './in-process-handler.ts';

export class InProcessApps {
  readonly #apps = new Map<string, InProcessApp>();
  readonly #log: Log;
  #onRejection: ((reason: unknown) => void) | null = null;

  constructor(log: Log) {
    this.#log = log;
  }

  has(name: string): boolean {
    return this.#apps.has(name);
  }

  /**
   * Imports the config's in-process apps that are new and, on reload, re-imports the others. All
   * new code is imported before any is swapped in, so a module that fails to import refuses the
   * whole reload (the error is thrown) and every app keeps its old module.
   */
  async sync(config: ResolvedConfig, reloading: boolean): Promise<void> {
    const wanted = Object.values(config.apps).filter((a) => a.mode === 'in-process');
    for (const a of wanted) {
      if (this.#apps.has(a.name) && this.#apps.get(a.name)?.module !== a.module) {
        throw new Error(`apps.${a.name}.module changed: restart to load the new path (reload refused)`);
      }
    }
    const started: InProcessApp[] = [];
    for (const a of wanted) {
      if (!this.#apps.has(a.name)) started.push(await InProcessApp.load(a.name, a.module));
    }
    const next: [InProcessApp, FetchFn][] = [];
    if (reloading) {
      for (const app of this.#apps.values()) if (config.apps[app.name]?.mode === 'in-process') next.push([app, await app.importNext()]);
    }
    for (const app of started) {
      this.#apps.set(app.name, app);
      this.#log('info', 'in-process app started', { app: app.name });
    }
    for (const [app, fetch] of next) {
      app.swap(fetch);
      this.#log('info', 'in-process app reloaded', { app: app.name, generation: app.generation });
    }
    for (const name of this.#apps.keys()) if (config.apps[name]?.mode !== 'in-process') this.#apps.delete(name);
    this.#guardRejections();
  }

  /** The route handler of an in-process app for one snapshot (a 503 until the stack has imported it). */
  handler(name: string, stripPrefix: boolean, config: ResolvedConfig): Handler {
    const app = this.#apps.get(name);
    if (app === undefined) {
      return () => {
        throw new ServiceUnavailableError(`app "${name}" is not loaded yet`, 'APP_NOT_STARTED');
      };
    }
    return inProcessHandler(app, { stripPrefix, timeout: config.apps[name].workerTimeout, log: this.#log });
  }

  status(): Record<string, InProcessStatus> {
    return Object.fromEntries([...this.#apps].map(([name, app]) => [name, app.status()]));
  }

  /** Called when the stack stops: the process-wide rejection handler goes with it. */
  close(): void {
    this.#apps.clear();
    this.#guardRejections();
  }

  /**
   * An in-process app's forgotten promise rejection would otherwise end the whole data plane
   * (Node's default since v15). Logged instead, while any in-process app runs: the rejection has
   * no request to answer, and the process state is intact. A synchronous throw from a timer or an
   * event handler (uncaughtException) is not caught: after it nothing is known to be consistent.
   */
  #guardRejections(): void {
    if (this.#apps.size > 0 && this.#onRejection === null) {
      this.#onRejection = (reason) => this.#log('error', 'unhandled promise rejection (an in-process app\'s, most likely): logged, not fatal', { err: reason });
      process.on('unhandledRejection', this.#onRejection);
    } else if (this.#apps.size === 0 && this.#onRejection !== null) {
      process.off('unhandledRejection', this.#onRejection);
      this.#onRejection = null;
    }
  }
}
