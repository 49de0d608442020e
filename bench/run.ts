// `npm run bench [-- <scenario> [options]]`: the benchmark suite. Each scenario starts its own
// contenders on loopback (nginx, HAProxy, Varnish, h2load and Caddy from Debian, installed on first
// use), interleaves repetitions and prints ratios measured in the same run. Without a scenario,
// all of them run in turn.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const SCENARIOS: Record<string, { script: string; what: string }> = {
  'io-model': { script: 'io-model/run.ts', what: 'reverse proxy 12 B: node:http+undici vs own HTTP/1.1 framing vs nginx (docs/io-model.md)' },
  'chain-cost': { script: 'chain-cost.ts', what: '0 vs 5 pass-through layers on both I/O-model prototypes, plus an in-process loop' },
  'stack-chain': { script: 'stack-chain.ts', what: 'the real stack (edge → routing → proxy) with 0 and 5 no-op layers, nginx proxy as anchor' },
  static: { script: 'anchors.ts static', what: 'static files 10 KiB and 1 MiB against nginx' },
  cache: { script: 'anchors.ts cache', what: 'cache hits 1 KiB and 100 KiB against Varnish and nginx proxy_cache' },
  balancer: { script: 'anchors.ts balancer', what: 'round robin over 2 origins against HAProxy and nginx' },
  framework: { script: 'framework.ts', what: 'framework hello world and 200 parametric routes against Hono and Fastify' },
  appserver: { script: 'appserver.ts', what: 'app server hello world: direct mode and behind the stack, against node:cluster (and pm2 when installed)' },
  proxy: { script: 'proxy.ts', what: 'reverse proxy 12 B and 100 KiB: Portico (both engines) vs nginx, HAProxy, node:http+undici, http-proxy, @fastify/reply-from' },
  tls: { script: 'tls.ts', what: 'HTTPS hello, h1 (wrk) and h2 (h2load): Portico vs nginx, Caddy and bare node:http2' },
  journey: { script: 'journey.ts', what: 'edge → cache miss → balancer → 2 app workers → framework hello, vs nginx → pm2 with the same app' },
  'idle-memory': { script: 'idle-memory.ts', what: 'memory per idle keep-alive connection (10,000 connections): Portico (both engines) vs nginx' },
};

// `npm run bench -- --seconds 3` (options, no scenario) runs every scenario with those options.
const args = process.argv.slice(2);
const optionsOnly = args.length > 0 && args[0].startsWith('--') && args[0] !== '--help';
const scenario: string | undefined = optionsOnly ? undefined : args[0];
const rest: string[] = optionsOnly ? args : args.slice(1);
if (scenario === '--help' || scenario === '-h' || (scenario !== undefined && SCENARIOS[scenario] === undefined)) {
  if (scenario !== '--help' && scenario !== '-h') console.error(`unknown scenario "${scenario}"\n`);
  console.log('npm run bench [-- [<scenario>] [--seconds N] [--reps N]]\n');
  for (const [name, s] of Object.entries(SCENARIOS)) console.log(`  ${name.padEnd(12)} ${s.what}`);
  process.exit(scenario === '--help' || scenario === '-h' ? 0 : 2);
}

ensureTools();
let failed = 0;
for (const name of scenario === undefined ? Object.keys(SCENARIOS) : [scenario]) {
  console.log(`\n## ${name}: ${SCENARIOS[name].what}\n`);
  const [script, ...fixed] = SCENARIOS[name].script.split(' ');
  const r = spawnSync(process.execPath, [join(import.meta.dirname, script), ...fixed, ...rest], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);

/**
 * nginx, wrk, Varnish, HAProxy and h2load come from Debian; install them when missing (root on
 * these machines). Caddy is optional: the `tls` scenario leaves its row out when it cannot be had.
 */
function ensureTools(): void {
  const PACKAGES: Record<string, string> = { nginx: 'nginx-light', wrk: 'wrk', varnishd: 'varnish', haproxy: 'haproxy', h2load: 'nghttp2-client' };
  const absent = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0;
  const pkgs = Object.keys(PACKAGES).filter(absent).map((bin) => PACKAGES[bin]);
  const caddy = absent('caddy');
  if (pkgs.length === 0 && !caddy) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  console.log(`installing ${[...pkgs, ...(caddy ? ['caddy (optional)'] : [])].join(', ')} from Debian…`);
  spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
  if (pkgs.length > 0) {
    const r = spawnSync('apt-get', ['install', '-y', '-q', ...pkgs], { stdio: 'inherit', env });
    if (r.status !== 0) throw new Error(`could not install ${pkgs.join(', ')}`);
  }
  if (caddy && spawnSync('apt-get', ['install', '-y', '-q', 'caddy'], { stdio: 'inherit', env }).status !== 0) {
    console.log('caddy is not installable here: the tls scenario runs without it');
  }
}
