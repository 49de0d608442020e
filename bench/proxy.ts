// Reverse proxy, 12 B and 100 KiB responses from one nginx origin (issue 9): nginx proxy_pass (the
// anchor), HAProxy, Portico on both edge engines with both upstream clients (the pool `client`
// field: its own HTTP/1.1 client or undici), and the Node peers: bare node:http + undici Pool,
// http-proxy, @fastify/reply-from; and, as a reference row only, Node's floor (peers/net-floor.ts).
// Every contender is one process (nginx and HAProxy one worker/thread), keep-alive upstream
// connections, access logs off. Goal: Portico at least 0.67 of nginx on 12 B.
//   node bench/proxy.ts [--seconds 5] [--reps 3]
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Contender, NGINX_COMMON, checkContender, freePort, loadAverage, startNginx, startNodeServer, startProcess, tempDir } from './io-model/harness.ts';
import { type Entrant, checkBody, entrant, interleave, machine, main, measureWrk, porticoAccepts, printResults, ratio, startFileOrigin, startPortico, suiteOptions } from './suite.ts';

const PEERS = join(import.meta.dirname, 'peers', 'node-proxy.ts');
const FLOOR = join(import.meta.dirname, 'peers', 'net-floor.ts');
/** Not a contender (GET only, no rules): Node's own floor on this path, measured in the same run. */
const FLOOR_NAME = 'floor: bare net proxy, no rules';
const MODULES = join(import.meta.dirname, '..', 'node_modules');

/**
 * nginx proxy_pass with a keep-alive upstream pool. Its default proxy buffers (8 × 4 KiB) would
 * spool a 100 KiB response to a temp file; 8 × 16 KiB keeps it in memory, as an operator would.
 */
async function nginxProxy(originPort: number): Promise<Contender> {
  const port = await freePort();
  return startNginx('nginx-proxy', `${NGINX_COMMON(tempDir(), 'nginx-proxy')}
  upstream origin { server 127.0.0.1:${originPort}; keepalive 64; keepalive_requests 10000000; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffer_size 16k; proxy_buffers 8 16k; }
  }
}
`, port);
}

async function haproxy(originPort: number): Promise<Contender> {
  const port = await freePort();
  const cfg = join(tempDir(), 'haproxy-proxy.cfg');
  writeFileSync(cfg, `global
  maxconn 4096
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  server origin 127.0.0.1:${originPort}
`);
  return startProcess('haproxy', 'haproxy', ['-db', '-f', cfg], port);
}

main(async () => {
  const { seconds, reps } = suiteOptions();
  console.log(`${machine()}\nwrk -t1 -c64 -d${seconds}s, ${reps} interleaved repetitions; every contender 1 process in front of the same nginx origin`);
  const origin = await startFileOrigin();
  const originUrl = `http://127.0.0.1:${origin.port}`;
  const config = { pools: { origin: { servers: [{ url: originUrl }] } }, routes: [{ path: '/', upstream: 'origin' }] };
  const contenders: Contender[] = [await nginxProxy(origin.port), await haproxy(origin.port)];
  // Probed rather than assumed, so the scenario also runs on a tree from before the pool `client`
  // field (then each engine runs once, with undici).
  const clients = (await porticoAccepts({ ...config, pools: { origin: { ...config.pools.origin, client: 'portico' } } })) ? (['undici', 'portico'] as const) : [undefined];
  for (const engine of ['node', 'portico'] as const) {
    for (const client of clients) {
      contenders.push(await startPortico(`portico ${engine} engine${client === undefined ? '' : ` + ${client} client`}`, { config, engine, client }));
    }
  }
  if (clients[0] === undefined) console.log('note: pools have no `client` field yet: Portico rows use the default upstream client (undici)');
  contenders.push(await startNodeServer('node:http + undici Pool', PEERS, ['--kind', 'undici', '--origin', originUrl], await freePort()));
  for (const [kind, name, pkg] of [['http-proxy', 'http-proxy', 'http-proxy'], ['reply-from', '@fastify/reply-from', '@fastify/reply-from']] as const) {
    if (existsSync(join(MODULES, pkg))) contenders.push(await startNodeServer(name, PEERS, ['--kind', kind, '--origin', originUrl], await freePort()));
    else console.log(`note: ${pkg} is not installed (npm install): row left out`);
  }
  for (const c of contenders) {
    await checkContender(c, true); // 12 B, plus a Content-Length and a chunked POST body forwarded
    await checkBody(c.name, c.port, '/100k');
  }
  console.log('checks: every contender answered GET / (12 B) and GET /100k (100 KiB) and forwarded CL and chunked POST bodies');
  const floor = await startNodeServer(FLOOR_NAME, FLOOR, ['--origin', originUrl], await freePort());
  await checkContender(floor, false);
  await checkBody(floor.name, floor.port, '/100k');
  contenders.push(floor);
  const entrants: Entrant[] = contenders.map((c) => entrant(c));
  for (const path of ['/', '/100k']) {
    const runs = await interleave(entrants, reps, (e, warm) => measureWrk(e, warm ? 1 : seconds, path));
    printResults(`reverse proxy ${path === '/' ? '12 B' : '100 KiB'} (GET ${path})`, 'nginx-proxy', runs);
    if (path === '/') {
      for (const e of entrants.filter((x) => x.name.startsWith('portico'))) console.log(`goal: ${e.name} ≥ 0.67 of nginx: ${ratio(runs, e.name, 'nginx-proxy').toFixed(2)}`);
      // The part of the gap that is Portico's own work (its rules and layers), not Node's.
      console.log(`${FLOOR_NAME} (GET only, not a contender): ${ratio(runs, FLOOR_NAME, 'nginx-proxy').toFixed(2)} of nginx`);
    }
  }
  console.log(`\nload average at end: ${loadAverage()}`);
});
