// Memory per idle keep-alive connection (issues 7 and 9): a client process opens N connections
// (default 10,000), each sends one keep-alive GET and then stays silent; the server's RSS (VmRSS
// summed over its process group) before and after, divided by N. Fixed 12-byte answers, no origin.
// nginx (1 worker, worker_connections above N) is the anchor; Portico on both edge engines, one
// process, with keep-alive and connection limits raised so no connection is closed meanwhile.
// `--seconds` is how long the connections sit idle before RSS is read. Goal: at most 2× nginx.
// A bare net.createServer that answers the same 12 bytes is the floor any Node server has (the
// socket, its stream state and the libuv handle); docs/idle-memory.md says where the rest goes.
//   node bench/idle-memory.ts [--seconds 5] [--reps 3] [--connections 10000]
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type Contender, NGINX_COMMON, freePort, loadAverage, median, startNginx, startNodeServer, stopGroup, table, tempDir } from './io-model/harness.ts';
import { checkBody, forgetGroup, killOnExit, machine, main, startPortico, suiteOptions } from './suite.ts';

const CLIENT = join(import.meta.dirname, 'idle-memory', 'idle-client.ts');
const BARE_NET = join(import.meta.dirname, 'idle-memory', 'probe-server.ts');
// Raise the open-files limit as far as allowed (10,000 sockets need more than the usual 1024).
const RAISE_NOFILE = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"';

/** VmRSS (KiB) summed over every live process of a group. */
function groupRssKib(pgid: number): number {
  let kib = 0;
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) < 0x30 || entry.charCodeAt(0) > 0x39) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
      kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${entry}/status`, 'latin1'))?.[1] ?? 0);
    } catch {} // exited meanwhile
  }
  return kib;
}

/** RSS once it stops moving (samples 250 ms apart within 0.5%), or after 5 s: GC settles. */
async function settledRss(pgid: number): Promise<number> {
  let last = groupRssKib(pgid);
  for (const deadline = Date.now() + 5_000; Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 250));
    const now = groupRssKib(pgid);
    if (Math.abs(now - last) <= last * 0.005) return now;
    last = now;
  }
  return last;
}

interface IdleClient {
  child: ChildProcess;
  line(): Promise<string>;
  send(cmd: string): void;
}

function startClient(port: number, n: number): IdleClient {
  const child = spawn('sh', ['-c', `${RAISE_NOFILE}; exec "$0" "$@"`, process.execPath, CLIENT, '--port', String(port), '--connections', String(n)],
    { detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
  killOnExit(child.pid!);
  child.stdin!.on('error', () => {}); // a client that died is reported by line(), not by EPIPE here
  const lines: string[] = [];
  let waiting: ((l: string) => void) | null = null;
  let failed: Error | null = null;
  createInterface({ input: child.stdout! }).on('line', (l) => (waiting !== null ? (waiting(l), (waiting = null)) : lines.push(l)));
  child.once('exit', (code) => {
    failed = new Error(`idle client exited with ${code}`);
    waiting?.('');
  });
  return {
    child,
    send: (cmd) => child.stdin!.write(`${cmd}\n`),
    line: () => new Promise((resolve, reject) => {
      if (lines.length > 0) return resolve(lines.shift()!);
      if (failed !== null) return reject(failed);
      const timer = setTimeout(() => reject(new Error('idle client: no answer within 120 s')), 120_000);
      waiting = (l) => {
        clearTimeout(timer);
        if (failed !== null) reject(failed);
        else resolve(l);
      };
    }),
  };
}

interface Sample {
  beforeKib: number;
  afterKib: number;
  perConnKib: number;
}

async function sample(c: Contender, n: number, idleSeconds: number): Promise<Sample> {
  const pgid = c.child.pid!;
  const beforeKib = await settledRss(pgid);
  const client = startClient(c.port, n);
  try {
    const open = await client.line();
    if (open !== `OPEN ${n}`) throw new Error(`${c.name}: the idle client said ${JSON.stringify(open)}`);
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const afterKib = await settledRss(pgid);
    client.send('count');
    const alive = await client.line();
    if (alive !== `ALIVE ${n}`) throw new Error(`${c.name}: closed idle connections during the measurement (${alive} of ${n})`);
    return { beforeKib, afterKib, perConnKib: (afterKib - beforeKib) / n };
  } finally {
    if (client.child.exitCode === null && client.child.signalCode === null) {
      const exited = new Promise((r) => client.child.once('exit', r));
      client.send('exit');
      await exited;
    }
    forgetGroup(client.child.pid!);
  }
}

main(async () => {
  const { seconds, reps, values } = suiteOptions({ connections: '10000' });
  const limit = Number(spawnSync('sh', ['-c', `${RAISE_NOFILE}; ulimit -n`], { encoding: 'utf8' }).stdout.trim());
  let n = Number(values.connections);
  if (n + 256 > limit) {
    console.log(`note: open-files limit is ${limit}: ${n} connections lowered to ${limit - 256}`);
    n = limit - 256;
  }
  console.log(`${machine()}\n${n} idle keep-alive connections (one GET each, then silent), held ${seconds} s; ${reps} interleaved repetitions, each on a fresh server process`);
  const nginxConf = (port: number) => `worker_rlimit_nofile ${limit};\n${NGINX_COMMON(tempDir(), 'nginx-idle').replace('worker_connections 4096', `worker_connections ${n + 1024}`)}
  server {
    listen 127.0.0.1:${port} backlog=4096;
    keepalive_timeout 10m;
    location / { default_type text/plain; return 200 "hello world\\n"; }
  }
}
`;
  const config = { routes: [{ path: '/', respond: { status: 200, body: 'hello world\n', headers: { 'content-type': 'text/plain' } } }] };
  const listener = { limits: { keepAliveTimeout: '10m', maxConnections: n + 1024, maxConnectionsPerIp: 0 } };
  // Every repetition gets a fresh process: a Node heap grown by an earlier repetition would take the
  // next one's connections into pages it already holds, and the figure would depend on the order.
  const starters: [string, () => Promise<Contender>][] = [
    ['nginx', async () => {
      const port = await freePort();
      return startNginx('nginx', nginxConf(port), port);
    }],
    ['bare node:net (floor)', async () => startNodeServer('bare node:net (floor)', BARE_NET, ['--kind', 'bare'], await freePort())],
    ...(['node', 'portico'] as const).map((engine): [string, () => Promise<Contender>] =>
      [`portico ${engine} engine`, () => startPortico(`portico ${engine} engine`, { config, engine, listener })]),
  ];
  const names = starters.map(([name]) => name);
  const runs = new Map<string, Sample[]>(names.map((name) => [name, []]));
  for (let r = 0; r < reps; r++) {
    for (const [name, start] of r % 2 === 0 ? starters : [...starters].reverse()) {
      const c = await start();
      await checkBody(name, c.port, '/');
      runs.get(name)!.push(await sample(c, n, seconds));
      await stopGroup(c.child);
    }
    if (r === 0) console.log('checks: every contender answered the 12-byte hello');
  }
  const perConn = (name: string) => median(runs.get(name)!.map((s) => s.perConnKib));
  console.log(`\nmemory per idle keep-alive connection, ${n} connections  (anchor: nginx)`);
  console.log(table(['contender', 'RSS before MiB', 'RSS after MiB', 'KiB / connection', 'vs nginx', 'runs (KiB/conn)'], names.map((name) => {
    const s = runs.get(name)!;
    return [name, (median(s.map((x) => x.beforeKib)) / 1024).toFixed(1), (median(s.map((x) => x.afterKib)) / 1024).toFixed(1), perConn(name).toFixed(2),
      (perConn(name) / perConn('nginx')).toFixed(2), s.map((x) => x.perConnKib.toFixed(2)).join(' ')];
  })));
  for (const name of names.slice(2)) console.log(`goal: ${name} ≤ 2× nginx per connection: ${(perConn(name) / perConn('nginx')).toFixed(2)}×`);
  console.log(`\nload average at end: ${loadAverage()}`);
});
