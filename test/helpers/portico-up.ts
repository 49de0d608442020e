// `portico up` as a real child process for tests of the process tree (src/dataplane): its log
// lines are collected and awaited as events; one keep-alive connection at a time can be driven
// to see which data-plane process accepted it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface UpProcess {
  child: ChildProcess;
  lines: string[];
  port: number;
  /** Resolves with the first line at or after `from` that matches. */
  waitLine(pattern: RegExp, from?: number, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

export async function startUp(configFile: string, env: Record<string, string> = {}): Promise<UpProcess> {
  const child = spawn(process.execPath, [MAIN, 'up', '-c', configFile], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let rest = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters) w();
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const waitLine = (pattern: RegExp, from = 0, timeoutMs = 15_000) => new Promise<string>((resolve, reject) => {
    const check = () => {
      const hit = lines.slice(from).find((l) => pattern.test(l));
      if (hit === undefined) return;
      waiters.delete(check);
      clearTimeout(timer);
      resolve(hit);
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`timed out waiting for a log line ${pattern}; got:\n${lines.join('\n')}`));
    }, timeoutMs);
    waiters.add(check);
    check();
  });
  const up: UpProcess = { child, lines, port: 0, waitLine, exited };
  const ready = waitLine(/ INFO {2}ready /);
  const failed = exited.then((code) => { throw new Error(`portico up exited ${code}:\n${lines.join('\n')}`); });
  await Promise.race([ready, failed]);
  up.port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(lines.find((l) => l.includes('listening on'))!)![1]);
  return up;
}

export interface Answer { status: number; body: string; headers: http.IncomingHttpHeaders }

/** One keep-alive connection: its requests all reach the process that accepted it. */
export interface Connection {
  get(path: string): Promise<Answer>;
  /** `first` resolves when the first body bytes arrive, `done` with the whole answer. */
  stream(path: string): { first: Promise<void>; done: Promise<Answer> };
  close(): void;
}

/** `onRequest` is called for every request sent (to count access-log lines). */
export function connection(port: number, onRequest?: () => void): Connection {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const stream = (path: string) => {
    onRequest?.();
    let first!: () => void;
    const firstP = new Promise<void>((r) => (first = r));
    const done = new Promise<Answer>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => { body += c; first(); }).on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      }).on('error', reject);
    });
    return { first: firstP, done };
  };
  return { get: (path) => stream(path).done, stream, close: () => agent.destroy() };
}

/**
 * Opens connections until one is accepted by `wanted` (a pid) and hands it over; `pidPath` answers
 * with the accepting process's pid. The kernel spreads connections by a hash of the 4-tuple, so a
 * bounded number of attempts finds every process.
 */
export async function connectionTo(port: number, pidPath: string, wanted: number, onRequest?: () => void): Promise<Connection> {
  for (let i = 0; i < 500; i++) {
    const c = connection(port, onRequest);
    const { body } = await c.get(pidPath);
    if (Number(body) === wanted) return c;
    c.close();
  }
  throw new Error(`no connection reached pid ${wanted} in 500 attempts`);
}
