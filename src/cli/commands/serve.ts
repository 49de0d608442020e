// `portico serve app.ts`: just the app server, in direct mode (like `gunicorn app:app` or
// `pm2 start -i N`), for sitting behind someone else's nginx. The master owns the process tree:
// SIGTERM/SIGINT stop gracefully, SIGHUP rolls the workers onto the code now on disk.
import { handleSignals } from '../signals.ts';
import { availableParallelism } from 'node:os';
import { basename, extname, resolve } from 'node:path';
import { startAppServer } from '../../appserver/index.ts';
import { createLogger } from '../../observability/logger.ts';

export interface ServeArgs {
  module: string | undefined;
  workers?: string;
  host?: string;
  port?: string;
  /** Seconds (gunicorn's --timeout). */
  timeout?: string;
  /** Seconds (gunicorn's --graceful-timeout). */
  gracefulTimeout?: string;
  maxRequests?: string;
  maxRequestsJitter?: string;
}

/** Thrown for bad arguments: main prints it with the usage and exits 2. */
export class UsageError extends Error {}

export interface ServeOptions {
  module: string;
  workers: number;
  host: string;
  port: number;
  workerTimeout: number;
  gracefulTimeout: number;
  maxRequests: number;
  maxRequestsJitter: number;
}

export function parseServeArgs(a: ServeArgs): ServeOptions {
  if (a.module === undefined) throw new UsageError('the app module is missing: portico serve APP');
  const workers = a.workers === undefined ? 1 : a.workers === 'auto' ? availableParallelism() : Number(a.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new UsageError(`--workers must be an integer ≥ 1 or "auto", got ${JSON.stringify(a.workers)}`);
  const port = a.port === undefined ? 3000 : Number(a.port);
  if (!/^\d+$/.test(a.port ?? '0') || port > 65535) throw new UsageError(`--port must be an integer 0-65535, got ${JSON.stringify(a.port)}`);
  return {
    module: resolve(a.module),
    workers,
    // Loopback unless asked: the usual place is behind a proxy on the same machine.
    host: a.host ?? '127.0.0.1',
    port,
    workerTimeout: seconds('--timeout', a.timeout, 30),
    gracefulTimeout: seconds('--graceful-timeout', a.gracefulTimeout, 30),
    maxRequests: count('--max-requests', a.maxRequests),
    maxRequestsJitter: count('--max-requests-jitter', a.maxRequestsJitter),
  };
}

function count(flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new UsageError(`${flag} must be an integer ≥ 0, got ${JSON.stringify(value)}`);
  return Number(value);
}

function seconds(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback * 1000;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${flag} must be a number of seconds > 0, got ${JSON.stringify(value)}`);
  return Math.round(n * 1000);
}

export async function serve(args: ServeArgs): Promise<number> {
  const o = parseServeArgs(args);
  const log = createLogger();
  const name = basename(o.module, extname(o.module)).replace(/[^A-Za-z0-9_.-]/g, '_') || 'app';
  const app = await startAppServer({
    name,
    module: o.module,
    workers: o.workers,
    listen: { host: o.host, port: o.port },
    shutdownTimeout: o.gracefulTimeout,
    workerTimeout: o.workerTimeout,
    maxRequests: o.maxRequests,
    maxRequestsJitter: o.maxRequestsJitter,
    log: (level, msg, fields) => log(level, msg, { app: name, ...fields }),
  });
  const a = app.address();
  const host = a?.host.includes(':') === true ? `[${a.host}]` : a?.host;
  log('info', `listening on http://${host}:${a?.port}`, { app: name, workers: o.workers, pid: process.pid });

  handleSignals({
    log,
    timeoutMs: o.gracefulTimeout,
    stop: () => app.stop(),
    // Refusals are logged by the app server with the import error; the old workers keep serving.
    reload: () => app.reload(),
  });
  return new Promise<number>(() => {}); // runs until a signal
}
