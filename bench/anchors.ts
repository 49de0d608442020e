// Side-by-side scenarios against the classic parts, each in one run with interleaved repetitions:
//   static    files of 10 KiB and 1 MiB: nginx `root` (sendfile, open_file_cache) vs Portico static
//   cache     cache hits of 1 KiB and 100 KiB: Varnish vs nginx proxy_cache vs Portico's RFC 9111 cache
//   balancer  2 origins behind round robin: HAProxy vs nginx upstream vs Portico's pool
//   node bench/anchors.ts <static|cache|balancer> [--seconds N] [--reps N]
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import {
  type Contender, type Measured, NGINX_COMMON, describeMachine, freePort, loadAverage, measure, median, startNginx, startNodeServer,
  startProcess, stopAll, table, tempDir,
} from './io-model/harness.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { seconds: { type: 'string', default: '5' }, reps: { type: 'string', default: '3' } } });
const seconds = Number(values.seconds);
const reps = Number(values.reps);
const stackServer = join(import.meta.dirname, 'stack-server.ts');

/** nginx's workers run as an unprivileged user: temp dirs (0700) must be readable to them. */
function readable(dir: string): string {
  chmodSync(dir, 0o755);
  return dir;
}

const portico = async (name: string, config: unknown) =>
  startNodeServer(name, stackServer, ['--config', JSON.stringify(config)], await freePort());

/** nginx origin answering `/1k` and `/100k` with cacheable bodies, and `/` with 12 bytes. */
async function cacheableOrigin(port: number): Promise<Contender> {
  const dir = readable(tempDir());
  writeFileSync(join(dir, '1k'), 'a'.repeat(1024));
  writeFileSync(join(dir, '100k'), 'b'.repeat(100 * 1024));
  return startNginx('origin', `${NGINX_COMMON(dir, 'origin')}
  server {
    listen 127.0.0.1:${port};
    root ${dir};
    location = / { default_type text/plain; return 200 "hello world\\n"; }
    location / { default_type text/plain; add_header Cache-Control "public, max-age=3600"; }
  }
}
`, port);
}

async function run(anchorName: string, contenders: Contender[], paths: string[], origins: Contender[]): Promise<void> {
  for (const path of paths) {
    const runs = new Map<string, Measured[]>(contenders.map((c) => [c.name, []]));
    for (const c of contenders) await measure(c, null, 1, path); // warm-up: caches filled, JIT warm
    for (let r = 0; r < reps; r++) {
      for (const c of r % 2 === 0 ? contenders : [...contenders].reverse()) runs.get(c.name)!.push(await measure(c, origins[0] ?? null, seconds, path));
    }
    const rps = (n: string) => median(runs.get(n)!.map((m) => m.rps));
    console.log(`\n${path}  (anchor: ${anchorName})`);
    console.log(table(['contender', 'req/s', `vs ${anchorName}`, 'p50 ms', 'p99 ms', 'CPU µs/req', 'errors'], contenders.map((c) => {
      const m = runs.get(c.name)!;
      return [c.name, rps(c.name).toFixed(0), (rps(c.name) / rps(anchorName)).toFixed(2), median(m.map((x) => x.p50Ms)).toFixed(2),
        median(m.map((x) => x.p99Ms)).toFixed(2), median(m.map((x) => x.cpuUsPerReq)).toFixed(1), String(m.reduce((n, x) => n + x.errors, 0))];
    })));
  }
}

async function staticScenario(): Promise<void> {
  const dir = readable(tempDir());
  const root = join(dir, 'www');
  mkdirSync(root, { mode: 0o755 });
  writeFileSync(join(root, '10k.bin'), Buffer.alloc(10 * 1024, 1));
  writeFileSync(join(root, '1m.bin'), Buffer.alloc(1024 * 1024, 2));
  const nginxPort = await freePort();
  const nginx = await startNginx('nginx', `${NGINX_COMMON(dir, 'nginx')}
  sendfile on; tcp_nopush on; open_file_cache max=1000 inactive=60s; open_file_cache_valid 1s;
  server { listen 127.0.0.1:${nginxPort}; root ${root}; }
}
`, nginxPort);
  const p = await portico('portico', { routes: [{ path: '/', static: { root } }] });
  await run('nginx', [nginx, p], ['/10k.bin', '/1m.bin'], []);
}

async function cacheScenario(): Promise<void> {
  const origin = await cacheableOrigin(await freePort());
  const dir = tempDir();
  const varnishPort = await freePort();
  const varnish = await startProcess('varnish', 'varnishd', ['-F', '-n', join(dir, 'varnish'), '-a', `127.0.0.1:${varnishPort}`, '-b', `127.0.0.1:${origin.port}`, '-s', 'malloc,256m', '-p', 'thread_pools=1'], varnishPort);
  const nginxPort = await freePort();
  const nginx = await startNginx('nginx-cache', `${NGINX_COMMON(dir, 'nginx-cache')}
  proxy_cache_path ${dir}/nginx-cache levels=1:2 keys_zone=c:10m max_size=256m;
  upstream origin { server 127.0.0.1:${origin.port}; keepalive 64; }
  server { listen 127.0.0.1:${nginxPort};
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_cache c; } }
}
`, nginxPort);
  const p = await portico('portico', { pools: { origin: { servers: [{ url: `http://127.0.0.1:${origin.port}` }] } }, routes: [{ path: '/', upstream: 'origin', cache: true }] });
  await run('varnish', [varnish, nginx, p], ['/1k', '/100k'], [origin]);
}

async function balancerScenario(): Promise<void> {
  const a = await cacheableOrigin(await freePort());
  const b = await cacheableOrigin(await freePort());
  const dir = tempDir();
  const haPort = await freePort();
  const cfg = join(dir, 'haproxy.cfg');
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
  bind 127.0.0.1:${haPort}
  default_backend be
backend be
  balance roundrobin
  server a 127.0.0.1:${a.port}
  server b 127.0.0.1:${b.port}
`);
  const haproxy = await startProcess('haproxy', 'haproxy', ['-db', '-f', cfg], haPort);
  const nginxPort = await freePort();
  const nginx = await startNginx('nginx-lb', `${NGINX_COMMON(dir, 'nginx-lb')}
  upstream pool { server 127.0.0.1:${a.port}; server 127.0.0.1:${b.port}; keepalive 64; }
  server { listen 127.0.0.1:${nginxPort};
    location / { proxy_pass http://pool; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
`, nginxPort);
  const p = await portico('portico', {
    pools: { pool: { servers: [{ url: `http://127.0.0.1:${a.port}` }, { url: `http://127.0.0.1:${b.port}` }], policy: 'round-robin' } },
    routes: [{ path: '/', upstream: 'pool' }],
  });
  // The second goal: health checks, queueing and passive ejection cost under 5%. Active
  // checks every second, a connection limit per server (the queue's accounting runs on every
  // request; 64 each never makes a request wait with wrk's 64 connections) and outlier detection.
  const checked = await portico('portico+checks', {
    pools: { pool: {
      servers: [{ url: `http://127.0.0.1:${a.port}`, maxConnections: 64 }, { url: `http://127.0.0.1:${b.port}`, maxConnections: 64 }],
      policy: 'round-robin', healthCheck: { path: '/', interval: '1s' }, passive: {}, queue: { maxLength: 1000, timeout: '2m' },
    } },
    routes: [{ path: '/', upstream: 'pool' }],
  });
  await run('haproxy', [haproxy, nginx, p, checked], ['/'], []);
  console.log('goal: portico ≥ 0.67 of haproxy, p99 < 2× haproxy\'s; portico+checks within 5% of portico');
}

const scenarios: Record<string, () => Promise<void>> = { static: staticScenario, cache: cacheScenario, balancer: balancerScenario };
const chosen = positionals.length > 0 ? positionals : Object.keys(scenarios);
try {
  console.log(`${describeMachine('every server is one process (nginx 1 worker, HAProxy 1 thread, Varnish and Portico one process); origins are nginx.')}\nwrk -t1 -c64 -d${seconds}s, ${reps} interleaved repetitions`);
  for (const name of chosen) {
    if (scenarios[name] === undefined) throw new Error(`unknown scenario ${name} (known: ${Object.keys(scenarios).join(', ')})`);
    console.log(`\n### ${name}`);
    await scenarios[name]();
    await stopAll();
  }
  console.log(`\nload average at end: ${loadAverage()}`);
} finally {
  await stopAll();
}
