// App server benchmark (issue 3): hello world with 2 worker processes, in one run:
//   portico direct   `portico serve`'s mode: workers accept on the master's shared socket
//   portico stack    behind the data plane: edge → routing → proxy → app worker (unix socket)
//   node:cluster     bare node:http under node:cluster's default scheduling, the reference
// and pm2 cluster mode when pm2 is installed (node_modules/.bin/pm2; not a dependency today).
// Goal from the issue: direct within 10% of node:cluster and ahead of pm2.
//
//   node bench/appserver.ts [--seconds 5] [--reps 3]
//
// wrk runs pinned to one core (io-model harness); the contenders share the machine. On a busy
// shared 2-core box the figures are not meaningful: compare ratios from one quiet run, repeated.
import { existsSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type Contender, type Measured, HELLO, freePort, loadAverage, measure, median, request, runWrk, startNodeServer, stopAll, table,
} from './io-model/harness.ts';

const SERVERS = fileURLToPath(new URL('./appserver/servers.ts', import.meta.url));
const PM2_APP = fileURLToPath(new URL('./appserver/pm2-app.mjs', import.meta.url));
const PM2 = fileURLToPath(new URL('../node_modules/.bin/pm2', import.meta.url));

async function start(kind: string): Promise<Contender> {
  return startNodeServer(kind, SERVERS, ['--procs', '2', '--kind', kind], await freePort());
}

/** pm2 in its own home (its daemon is ours alone and is killed afterwards), cluster mode, 2 instances. */
async function withPm2<T>(run: (port: number) => Promise<T>): Promise<T | undefined> {
  if (!existsSync(PM2)) return undefined;
  const port = await freePort();
  // pm2 runs its apps with the `node` on PATH: make it this one (Node 24 loads the .ts handler).
  const PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;
  const env = { ...process.env, PATH, PM2_HOME: mkdtempSync(join(tmpdir(), 'pbench-pm2-')), PORT: String(port) };
  const pm2 = (...args: string[]) => spawnSync(PM2, args, { env, encoding: 'utf8' });
  const started = pm2('start', PM2_APP, '-i', '2', '--name', 'hello');
  if (started.status !== 0) throw new Error(`pm2 start failed:\n${started.stderr}`);
  try {
    for (let i = 0; i < 100 && (await request(port, 'GET', '/').catch(() => null))?.body !== HELLO; i++) await new Promise((r) => setTimeout(r, 100));
    return await run(port);
  } finally {
    pm2('kill');
  }
}

async function check(c: { name: string; port: number }): Promise<void> {
  const r = await request(c.port, 'GET', '/');
  if (r.status !== 200 || r.body !== HELLO) throw new Error(`${c.name}: unexpected ${r.status} ${JSON.stringify(r.body)}`);
}

export async function runAppServerBench(seconds: number, reps: number): Promise<void> {
  const contenders = [await start('cluster'), await start('direct'), await start('stack')];
  for (const c of contenders) await check(c);
  const results = new Map<string, Measured[]>();
  const add = (name: string, m: Measured) => results.set(name, [...(results.get(name) ?? []), m]);
  // Interleaved reps: drift in the machine's load hits every contender alike.
  for (let rep = 0; rep < reps; rep++) {
    for (const c of contenders) add(c.name, await measure(c, null, seconds));
  }
  await stopAll();
  // pm2 last and alone: its daemon cannot sit in the harness's process groups.
  for (let rep = 0; rep < reps; rep++) {
    const m = await withPm2(async (port) => {
      await check({ name: 'pm2', port });
      return { ...(await runWrk(port, seconds)), cpuUsPerReq: NaN, originUsPerReq: 0 };
    });
    if (m === undefined) break;
    add('pm2', m);
  }
  const base = median((results.get('cluster') ?? []).map((m) => m.rps));
  const rows = [...results].map(([name, ms]) => {
    const rps = median(ms.map((m) => m.rps));
    const cpu = median(ms.map((m) => m.cpuUsPerReq));
    return [name, rps.toFixed(0), (rps / base).toFixed(2), median(ms.map((m) => m.p50Ms)).toFixed(2), median(ms.map((m) => m.p99Ms)).toFixed(2),
      Number.isNaN(cpu) ? '-' : cpu.toFixed(1), String(ms.reduce((a, m) => a + m.errors, 0))];
  });
  console.log(table(['contender (2 workers)', 'req/s', 'vs cluster', 'p50 ms', 'p99 ms', 'CPU µs/req', 'errors'], rows));
  if (!results.has('pm2')) console.log('pm2: not installed (node_modules/.bin/pm2), row left out');
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, reps: { type: 'string', default: '3' } } });
  console.log(`${new Date().toISOString()}  node ${process.version}  load average before: ${loadAverage()}`);
  console.log('wrk -t1 -c64 pinned to core 1 (taskset); contenders unpinned; 12-byte responses, keep-alive');
  runAppServerBench(Number(values.seconds), Number(values.reps)).then(() => process.exit(0), (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
