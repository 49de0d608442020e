// The full journey (issue 9): Portico edge → routing → cache (a miss: the app sends no freshness)
// → balancer (the app pool) → app worker (2 workers, unix sockets) → framework hello app, on both
// edge engines, against nginx (1 worker, keep-alive upstream) → pm2 cluster mode (2 instances)
// running the same app behind the same fetch bridge. CPU per request sums every process of the
// contender: Portico with its workers; nginx plus pm2's daemon and workers.
// A proxy hop costs more than the hello app itself, so the same journey is measured a second way:
// the app `mode: 'in-process'`, imported into the data-plane process and called without a socket
// (one process for everything, against nginx + 2 pm2 workers), and with `processes: 2`: two
// data-plane processes each importing the app (src/dataplane), the same core count as nginx's
// 1 worker + pm2's 2 instances can use on this 2-core machine.
// Goal: at least 1.0× nginx → pm2.
//   node bench/journey.ts [--seconds 5] [--reps 3]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { type Contender, HELLO, NGINX_COMMON, freePort, loadAverage, startNginx, tempDir } from './io-model/harness.ts';
import { type Entrant, entrant, forgetGroup, interleave, killOnExit, machine, main, measureWrk, printResults, ratio, startPortico, suiteOptions } from './suite.ts';

const APP = join(import.meta.dirname, 'journey', 'hello-framework.ts');
const PM2_APP = join(import.meta.dirname, 'journey', 'pm2-framework.mjs');
const PM2 = join(import.meta.dirname, '..', 'node_modules', '.bin', 'pm2');

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

function get(port: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('latin1').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    }).on('error', reject);
  });
}

/**
 * The hello; for Portico also proof that the request went through the cache (a miss) to the app:
 * a worker (its `x-portico-worker` header) or the in-process app (no worker header).
 */
async function check(e: Entrant, portico: boolean): Promise<void> {
  for (let i = 0; i < 2; i++) { // the second request must not be a hit either
    const a = await get(e.port);
    if (a.status !== 200 || a.body !== HELLO) throw new Error(`${e.name}: GET / gave ${a.status} ${JSON.stringify(a.body)}`);
    if (!portico) continue;
    const cache = String(a.headers['cache-status'] ?? '');
    const timing = String(a.headers['server-timing'] ?? '');
    if (!cache.includes('fwd=') || !/\bapp\b/.test(timing)) throw new Error(`${e.name}: not the miss path to the app (cache-status: ${cache}; server-timing: ${timing})`);
    const worker = a.headers['x-portico-worker'] !== undefined;
    if (worker === e.name.includes('in-process')) throw new Error(`${e.name}: x-portico-worker ${worker ? 'present' : 'missing'}: the app did not run where the row says`);
  }
}

/** pm2 cluster mode, 2 instances, in a private PM2_HOME; its daemon's process group holds its workers. */
async function startPm2(): Promise<{ port: number; pgid: number; stop(): void } | null> {
  if (!existsSync(PM2)) return null;
  const port = await freePort();
  const home = mkdtempSync(join(tmpdir(), 'pbench-pm2-'));
  // pm2 runs its apps with the `node` on PATH: make it this one (Node 24 loads the .ts app).
  const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, PM2_HOME: home, PORT: String(port) };
  const pm2 = (...args: string[]) => spawnSync(PM2, args, { env, encoding: 'utf8' });
  const started = pm2('start', PM2_APP, '-i', '2', '--name', 'journey');
  const pidFile = join(home, 'pm2.pid');
  const pgid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'latin1').trim()) : NaN;
  if (Number.isInteger(pgid)) killOnExit(pgid);
  if (started.status !== 0 || !Number.isInteger(pgid)) throw new Error(`pm2 start failed:\n${started.stderr}`);
  const deadline = Date.now() + 15_000;
  while ((await get(port).catch(() => null))?.body !== HELLO) {
    if (Date.now() > deadline) throw new Error('pm2: the app did not answer within 15 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port, pgid, stop: () => {
      pm2('kill');
      forgetGroup(pgid);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

async function nginxTo(appPort: number): Promise<Contender> {
  const port = await freePort();
  return startNginx('nginx → pm2', `${NGINX_COMMON(tempDir(), 'nginx-pm2')}
  upstream app { server 127.0.0.1:${appPort}; keepalive 64; keepalive_requests 10000000; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`, port);
}

main(async () => {
  const { seconds, reps } = suiteOptions();
  console.log(`${machine()}\nwrk -t1 -c64 -d${seconds}s, ${reps} interleaved repetitions; framework hello app in 2 worker processes, or in-process in Portico's one process or in each of its 2 data-plane processes`);
  const config = { apps: { hello: { module: APP, workers: 2 } }, routes: [{ path: '/', app: 'hello', cache: true }] };
  const inProcess = { apps: { hello: { module: APP, mode: 'in-process' } }, routes: [{ path: '/', app: 'hello', cache: true }] };
  const entrants: Entrant[] = [];
  const pm2 = await startPm2();
  try {
    if (pm2 !== null) entrants.push(entrant(await nginxTo(pm2.port), [pm2.pgid]));
    else console.log('note: pm2 is not installed (node_modules/.bin/pm2): the anchor row is missing, ratios are to the first Portico row');
    for (const engine of ['node', 'portico'] as const) entrants.push(entrant(await startPortico(`portico ${engine} engine (socket to workers)`, { config, engine })));
    for (const engine of ['node', 'portico'] as const) entrants.push(entrant(await startPortico(`portico ${engine} engine (app in-process)`, { config: inProcess, engine })));
    for (const engine of ['node', 'portico'] as const) {
      entrants.push(entrant(await startPortico(`portico ${engine} engine (app in-process, 2 data-plane processes)`, { config: inProcess, engine, processes: 2 })));
    }
    for (const e of entrants) await check(e, e.name.startsWith('portico'));
    console.log('checks: every contender answered the hello; Portico\'s went through the cache (a miss, twice) to the app (workers or in-process)');
    const runs = await interleave(entrants, reps, (e, warm) => measureWrk(e, warm ? 1 : seconds));
    const anchor = entrants[0].name;
    printResults('full journey, framework hello (2 workers, or in-process)', anchor, runs);
    for (const e of entrants.filter((x) => x.name.startsWith('portico') && pm2 !== null)) console.log(`goal: ${e.name} ≥ 1.0× nginx → pm2: ${ratio(runs, e.name, anchor).toFixed(2)}`);
  } finally {
    pm2?.stop();
  }
  console.log(`\nload average at end: ${loadAverage()}`);
});
