// Shared helpers for the app server tests: fixture paths, a private runtime dir per test, an app
// server stopped after the test, requests over a unix socket, and deadline-bounded polling.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { isAlive, waitFor as waitUntil } from '../../test/helpers/servers.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import { Client } from 'undici';
import { type AppServer, type AppServerOptions, type LogLevel, startAppServer } from './index.ts';

export const fixture = (name: string): string => fileURLToPath(new URL(`../../test/fixtures/apps/${name}`, import.meta.url));

/** A fresh directory under the OS temp dir, removed after the test (short: socket paths are limited). */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'pas-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface LogEntry {
  level: LogLevel;
  msg: string;
  fields: Record<string, unknown>;
}

export interface TestApp {
  app: AppServer;
  dir: string;
  logs: LogEntry[];
}

/** Starts an app server in a private runtime dir; it is stopped (workers gone) after the test. */
export async function startTestApp(t: TestContext, options: Partial<AppServerOptions> & { module: string }): Promise<TestApp> {
  const dir = tempDir(t);
  const logs: LogEntry[] = [];
  const app = await startAppServer({
    name: 'app',
    workers: 2,
    runtimeDir: dir,
    shutdownTimeout: 5_000,
    log: (level, msg, fields = {}) => logs.push({ level, msg, fields }),
    ...options,
  });
  t.after(() => app.stop(1_000));
  return { app, dir, logs };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer | AsyncIterable<Uint8Array>;
}

/** One request on a fresh connection to `socket`, body read in full. */
export async function call(socket: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const client = new Client('http://localhost', { socketPath: socket });
  try {
    const body = options.body === undefined || typeof options.body === 'string' || Buffer.isBuffer(options.body) ? options.body : Readable.from(options.body);
    const r = await client.request({ path, method: options.method ?? 'GET', headers: options.headers, body });
    return { status: r.statusCode, headers: r.headers, body: await r.body.text() };
  } finally {
    await client.close();
  }
}

export async function callJson<T = Record<string, unknown>>(socket: string, path: string): Promise<T> {
  const r = await call(socket, path);
  if (r.status !== 200) throw new Error(`GET ${path} on ${socket}: ${r.status} ${r.body}`);
  return JSON.parse(r.body) as T;
}

/** Polls `check` until it returns something truthy; fails after the deadline. */
/** Shared with the integration tests (test/helpers/servers.ts): one waiting helper, one liveness check. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  return waitUntil(check, what, timeoutMs);
}
export { isAlive };

export function socketFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.sock'));
}

export const SERVER_TIMING_APP = /(^|, )app;dur=\d+\.\d$/;
