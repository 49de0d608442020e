// Benchmark plumbing shared by run.ts, chain-cost.ts and framing-check.ts: child process groups
// that are always killed, nginx configs in a private prefix, wrk runs, per-group CPU accounting.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Every process group we started; killed on any exit, error or signal. */
const groups = new Set<ChildProcess>();
let workDir: string | null = null;

function killAll(signal: NodeJS.Signals): void {
  for (const child of groups) {
    try {
      process.kill(-child.pid!, signal); // detached: the child leads its own group
    } catch {}
  }
}

process.on('exit', () => {
  killAll('SIGKILL');
  if (workDir !== null) rmSync(workDir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => process.exit(130));
process.on('uncaughtException', (err) => {
  console.error(err);
  process.exit(1);
});

export function tempDir(): string {
  return (workDir ??= mkdtempSync(join(tmpdir(), 'portico-io-model-')));
}

/** Stops one group: SIGTERM, then SIGKILL if it has not exited within a second. */
export async function stopGroup(child: ChildProcess): Promise<void> {
  if (!groups.delete(child)) return;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {}
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  }, 1000);
  await exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...groups].map((c) => stopGroup(c)));
}

/** A port free right now (the OS picks it); the race until the server binds is accepted here. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Any server binary as a contender: started in its own process group, ready once it accepts. */
export async function startProcess(name: string, cmd: string, args: string[], port: number): Promise<Contender> {
  const child = spawnGroup(cmd, args, name);
  await waitForPort(port, name, child);
  return { name, port, child };
}

function spawnGroup(cmd: string, args: string[], name: string): ChildProcess {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  groups.add(child);
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d.toString()}`));
  child.once('exit', (code, signal) => {
    if (groups.has(child)) console.error(`[${name}] exited unexpectedly (code ${code}, signal ${signal})`);
  });
  return child;
}

/** Waits until something accepts on the port (nginx has no readiness line to read). */
async function waitForPort(port: number, name: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${name} did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Contender {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
}

export const NGINX_COMMON = (dir: string, name: string) => `
worker_processes 1;
pid ${dir}/${name}.pid;
error_log ${dir}/${name}-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/${name}-body;
  proxy_temp_path ${dir}/${name}-proxy;
  fastcgi_temp_path ${dir}/${name}-fastcgi;
  uwsgi_temp_path ${dir}/${name}-uwsgi;
  scgi_temp_path ${dir}/${name}-scgi;
  # wrk keeps its 64 connections for the whole run; nginx's default (1000) would recycle them.
  keepalive_requests 10000000;
  keepalive_timeout 75s;
`;

/** The fixed origin: nginx answering 12 bytes on a keep-alive connection. */
export async function startOrigin(port: number): Promise<Contender> {
  const dir = tempDir();
  const conf = `${NGINX_COMMON(dir, 'origin')}
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 "hello world\\n"; }
  }
}
`;
  return startNginx('origin', conf, port);
}

/** The anchor: nginx as a reverse proxy to the origin with a keep-alive upstream pool. */
export async function startNginxProxy(port: number, originPort: number): Promise<Contender> {
  const dir = tempDir();
  const conf = `${NGINX_COMMON(dir, 'nginx-proxy')}
  upstream origin {
    server 127.0.0.1:${originPort};
    keepalive 64;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
  return startNginx('nginx-proxy', conf, port);
}

export async function startNginx(name: string, conf: string, port: number): Promise<Contender> {
  const dir = tempDir();
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, conf);
  const child = spawnGroup('nginx', ['-p', dir, '-c', file, '-g', 'daemon off;'], name);
  await waitForPort(port, name, child);
  return { name, port, child };
}

/** A prototype server (its launcher prints `READY <port>` once all its processes listen). */
export async function startNodeServer(name: string, script: string, args: string[], port: number): Promise<Contender> {
  const child = spawnGroup(process.execPath, [script, '--port', String(port), ...args], name);
  await new Promise<void>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      if (line.startsWith('READY ')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
  });
  return { name, port, child };
}

export interface Reply {
  status: number;
  body: string;
}

/** One request on a fresh connection, for the correctness checks before loading a contender. */
export function request(port: number, method: string, path: string, body?: string, chunked = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (body !== undefined && !chunked) headers['content-length'] = String(Buffer.byteLength(body));
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined && chunked) {
      // Two writes: node sends Transfer-Encoding: chunked with two chunks.
      req.write(body.slice(0, 3));
      req.write(body.slice(3));
    } else if (body !== undefined) req.write(body);
    req.end();
  });
}

export interface WrkResult {
  rps: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

/** wrk on core 1 only (the servers may use both cores, as in DESIGN.md's measured facts). */
export function runWrk(port: number, seconds: number, connections = 64, path = '/', scheme: 'http' | 'https' = 'http'): Promise<WrkResult> {
  const args = ['-c', '1', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', `${scheme}://127.0.0.1:${port}${path}`];
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited with ${code}:\n${out}`));
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const total = /(\d+) requests in/.exec(out);
      const p50 = /\s50%\s+([\d.]+)(us|ms|s)\b/.exec(out);
      const p99 = /\s99%\s+([\d.]+)(us|ms|s)\b/.exec(out);
      if (!rps || !total || !p50 || !p99) return reject(new Error(`cannot parse wrk output:\n${out}`));
      const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const errors = (non2xx ? Number(non2xx[1]) : 0) + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
      resolve({
        rps: Number(rps[1]), requests: Number(total[1]),
        p50Ms: toMs(p50[1], p50[2]), p99Ms: toMs(p99[1], p99[2]), errors,
      });
    });
  });
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU time (µs) used so far by every live process of a group: utime + stime from /proc/<pid>/stat. */
export function groupCpuMicros(pgid: number): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) < 0x30 || entry.charCodeAt(0) > 0x39) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue; // exited meanwhile
    }
    // Fields after "(comm)": state ppid pgrp ... utime (14th overall) stime (15th).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[2]) !== pgid) continue;
    ticks += Number(f[11]) + Number(f[12]);
  }
  return (ticks * 1e6) / CLK_TCK;
}

export interface Measured extends WrkResult {
  cpuUsPerReq: number;
  originUsPerReq: number;
}

/** One wrk run against a contender with CPU accounting for it and for the origin. */
export async function measure(c: Contender, origin: Contender | null, seconds: number, path = '/'): Promise<Measured> {
  const cpu0 = groupCpuMicros(c.child.pid!);
  const o0 = origin ? groupCpuMicros(origin.child.pid!) : 0;
  const r = await runWrk(c.port, seconds, 64, path);
  const cpu1 = groupCpuMicros(c.child.pid!);
  const o1 = origin ? groupCpuMicros(origin.child.pid!) : 0;
  return { ...r, cpuUsPerReq: (cpu1 - cpu0) / r.requests, originUsPerReq: origin ? (o1 - o0) / r.requests : 0 };
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A plain-text table with right-aligned numeric columns (pasted as-is into docs/io-model.md). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [line(header), sep, ...rows.map(line)].join('\n');
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ');
}

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const PROTOTYPE_A = `${HERE}proxy-node-http.ts`;
export const PROTOTYPE_B = `${HERE}proxy-net-framing.ts`;
export const HELLO = 'hello world\n';

/** Fails loudly unless the contender answers the origin's 12 bytes (and forwards bodies, if asked). */
export async function checkContender(c: Contender, withBodies: boolean): Promise<void> {
  const get = await request(c.port, 'GET', '/');
  if (get.status !== 200 || get.body !== HELLO) throw new Error(`${c.name}: GET / gave ${get.status} ${JSON.stringify(get.body)}`);
  if (!withBodies) return;
  for (const chunked of [false, true]) {
    const post = await request(c.port, 'POST', '/submit?x=1', 'some request body', chunked);
    if (post.status !== 200 || post.body !== HELLO) {
      throw new Error(`${c.name}: POST (${chunked ? 'chunked' : 'content-length'}) gave ${post.status} ${JSON.stringify(post.body)}`);
    }
  }
}

/** `setup`: what this scenario runs, in place of the io-model prototypes' line (A and B). */
export function describeMachine(setup = 'origin = nginx (1 worker) returning 12 bytes; A and B run as 2 SO_REUSEPORT processes, nginx proxy as 1 worker.'): string {
  const nginx = /nginx\/[\d.]+/.exec(spawnSync('nginx', ['-v']).stderr?.toString() ?? '')?.[0] ?? 'nginx';
  let wrk = 'wrk';
  try {
    execFileSync('wrk', ['-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    // wrk -v prints its version and exits with 1.
    wrk = String((err as { stdout?: Buffer }).stdout ?? '').split(' ').slice(0, 2).join(' ') || 'wrk';
  }
  return [
    `date: ${new Date().toISOString()}   node ${process.version}   ${nginx}   ${wrk}`,
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; load average before: ${loadAverage()}`,
    'load: wrk -t1 -c64 --latency pinned with taskset -c 1; servers unpinned (free to use both cores);',
    `      ${setup}`,
  ].join('\n');
}
