// What the issue-9 scenarios (proxy, tls, journey, idle-memory) share on top of the io-model
// harness: command-line options, contenders whose CPU spans several process groups (nginx in front
// of pm2), interleaved repetitions, the result table, Portico stacks, the origin and a certificate.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type Contender, type Measured, HELLO, NGINX_COMMON, describeMachine, freePort, groupCpuMicros, median, request, runWrk, startNginx, startNodeServer, stopAll, table, tempDir,
} from './io-model/harness.ts';

export interface SuiteOptions {
  seconds: number;
  reps: number;
  values: Record<string, string | boolean | undefined>;
}

/** `--seconds N --reps N` (defaults 5 and 3) plus a scenario's own string options. */
export function suiteOptions(extra: Record<string, string> = {}): SuiteOptions {
  const options: Record<string, { type: 'string'; default: string }> = { seconds: { type: 'string', default: '5' }, reps: { type: 'string', default: '3' } };
  for (const [name, def] of Object.entries(extra)) options[name] = { type: 'string', default: def };
  const { values } = parseArgs({ options });
  const seconds = Number(values.seconds);
  const reps = Number(values.reps);
  if (!(seconds >= 1) || !Number.isInteger(reps) || reps < 1) throw new Error(`--seconds must be ≥ 1 and --reps a positive integer, got ${values.seconds} and ${values.reps}`);
  return { seconds, reps, values };
}

/** Date, versions, CPUs and load (the harness's lines about the io-model prototypes left out). */
export const machine = (): string => describeMachine().split('\n').slice(0, 2).join('\n');

/** A loaded server: the port wrk hits and every process group whose CPU it costs. */
export interface Entrant {
  readonly name: string;
  readonly port: number;
  readonly groups: readonly number[];
  readonly scheme?: 'http' | 'https';
}

export const entrant = (c: Contender, more: readonly number[] = [], scheme?: 'http' | 'https'): Entrant =>
  ({ name: c.name, port: c.port, groups: [c.child.pid!, ...more], scheme });

export const cpuMicros = (groups: readonly number[]): number => groups.reduce((sum, g) => sum + groupCpuMicros(g), 0);

/** One wrk run (-t1 -c64, pinned to core 1) with the entrant's CPU over the run. */
export async function measureWrk(e: Entrant, seconds: number, path = '/'): Promise<Measured> {
  const before = cpuMicros(e.groups);
  const r = await runWrk(e.port, seconds, 64, path, e.scheme ?? 'http');
  return { ...r, cpuUsPerReq: (cpuMicros(e.groups) - before) / r.requests, originUsPerReq: 0 };
}

/**
 * A warm-up run per entrant (JIT, pools, caches; not counted), then `reps` rounds whose order
 * alternates, so drift on a shared machine hurts every entrant alike.
 */
export async function interleave(entrants: readonly Entrant[], reps: number, run: (e: Entrant, warmUp: boolean) => Promise<Measured>): Promise<Map<string, Measured[]>> {
  const runs = new Map<string, Measured[]>(entrants.map((e) => [e.name, []]));
  for (const e of entrants) await run(e, true);
  for (let r = 0; r < reps; r++) {
    for (const e of r % 2 === 0 ? entrants : [...entrants].reverse()) runs.get(e.name)!.push(await run(e, false));
  }
  return runs;
}

/** The scenario table: medians, ratio to the anchor from the same run, per-run req/s for the spread. */
export function printResults(title: string, anchor: string, runs: Map<string, Measured[]>): void {
  const rps = (name: string) => median(runs.get(name)!.map((m) => m.rps));
  const rows = [...runs].map(([name, m]) => [
    name, rps(name).toFixed(0), (rps(name) / rps(anchor)).toFixed(2), median(m.map((x) => x.p50Ms)).toFixed(2), median(m.map((x) => x.p99Ms)).toFixed(2),
    Number.isNaN(median(m.map((x) => x.cpuUsPerReq))) ? '-' : median(m.map((x) => x.cpuUsPerReq)).toFixed(1),
    String(m.reduce((n, x) => n + x.errors, 0)), m.map((x) => (x.rps / 1000).toFixed(1)).join(' '),
  ]);
  console.log(`\n${title}  (anchor: ${anchor})`);
  console.log(table(['contender', 'req/s (median)', `vs ${anchor}`, 'p50 ms', 'p99 ms', 'CPU µs/req', 'errors', 'runs (k req/s)'], rows));
}

/** The median ratio of two entrants, for the goal lines printed under a table. */
export const ratio = (runs: Map<string, Measured[]>, a: string, b: string): number =>
  median(runs.get(a)!.map((m) => m.rps)) / median(runs.get(b)!.map((m) => m.rps));

export interface PorticoOptions {
  config: unknown;
  engine?: 'node' | 'portico';
  /** Extra listener fields (tls, limits). */
  listener?: Record<string, unknown>;
  /** The pools' upstream client, when the config schema has the field. */
  client?: 'portico' | 'undici';
  /** Data-plane processes (`processes: N`, src/dataplane); default 1. */
  processes?: number;
}

const STACK_SERVER = join(import.meta.dirname, 'stack-server.ts');

/** Portico as `portico up` builds it (bench/stack-server.ts), one process, access log off. */
export async function startPortico(name: string, o: PorticoOptions): Promise<Contender> {
  const args = ['--config', JSON.stringify(o.config), '--engine', o.engine ?? 'portico', '--listener', JSON.stringify(o.listener ?? {})];
  if (o.client !== undefined) args.push('--client', o.client);
  if (o.processes !== undefined) args.push('--processes', String(o.processes));
  return startNodeServer(name, STACK_SERVER, args, await freePort());
}

/** True when a config fragment passes Portico's validation: lets a scenario include rows for features still landing. */
export async function porticoAccepts(config: Record<string, unknown>): Promise<boolean> {
  const { validateConfig } = await import('../src/config/validate.ts');
  return validateConfig({ runtimeDir: tempDir(), ...config }, process.cwd()).ok;
}

/** nginx's workers run as an unprivileged user: the files they serve must be readable to them. */
export function readableDir(): string {
  const dir = join(tempDir(), `www-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  chmodSync(tempDir(), 0o755);
  chmodSync(dir, 0o755);
  return dir;
}

export const BODY_100K = 100 * 1024;

/** The fixed origin: nginx (1 worker) answering 12 bytes on any path, and a 100 KiB file at `/100k`. */
export async function startFileOrigin(): Promise<Contender> {
  const root = readableDir();
  writeFileSync(join(root, '100k'), Buffer.alloc(BODY_100K, 'b'));
  const port = await freePort();
  return startNginx('origin', `${NGINX_COMMON(tempDir(), 'origin')}
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location = /100k { default_type application/octet-stream; }
    location / { default_type text/plain; return 200 "hello world\\n"; }
  }
}
`, port);
}

/** Fails loudly unless `path` answers 200 with the expected body (the 12-byte hello or 100 KiB of `b`). */
export async function checkBody(name: string, port: number, path: string): Promise<void> {
  const r = await request(port, 'GET', path);
  const ok = path === '/100k' ? r.body.length === BODY_100K && /^b+$/.test(r.body) : r.body === HELLO;
  if (r.status !== 200 || !ok) throw new Error(`${name}: GET ${path} gave ${r.status} with ${r.body.length} bytes ${JSON.stringify(r.body.slice(0, 60))}`);
}

/** One self-signed EC P-256 certificate for localhost and 127.0.0.1, shared by every TLS contender. */
export function makeCertificate(): { cert: string; key: string } {
  const dir = readableDir();
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  chmodSync(key, 0o644); // nginx reads it as root, Caddy as us; the directory is private to this run
  return { cert, key };
}

export const hasCommand = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

/** Process groups started outside the harness (pm2's daemon) are killed on any exit too. */
const foreignGroups = new Set<number>();
export function killOnExit(pgid: number): void {
  foreignGroups.add(pgid);
}
export function forgetGroup(pgid: number): void {
  foreignGroups.delete(pgid);
}
process.on('exit', () => {
  for (const g of foreignGroups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {}
  }
});

/**
 * Runs a scenario's main: exit 0 when done, 1 with the error. Contenders get SIGTERM first (so
 * Portico removes its runtime directory); the harness SIGKILLs whatever is left on exit.
 */
export function main(fn: () => Promise<void>): void {
  fn().then(() => stopAll().then(() => process.exit(0)), (err: unknown) => {
    console.error(err);
    void stopAll().finally(() => process.exit(1));
  });
}
