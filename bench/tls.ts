// HTTPS, 12-byte hello answered by the server itself (no origin behind it, so the table measures
// TLS termination and the HTTP layer): HTTP/1.1 (wrk over TLS) and h2 (h2load), TLS 1.3, one EC
// P-256 certificate for everyone. nginx (1 worker) is the anchor; Caddy (GOMAXPROCS=1) when its
// Debian package is installed; Portico's https listener (a `respond` route) on each engine that
// takes `tls`; bare node:http2 as the Node reference, on its stream API (the cheapest node gets)
// and on its compat API (Http2ServerRequest/Response). Every contender is one process/worker.
// Goal (issues 7 and 9): Portico h2 at least 0.8 of nginx.
//   node bench/tls.ts [--seconds 5] [--reps 3] [--streams 1]
// --streams: h2load's -m (concurrent streams per connection, 64 connections); 1 keeps 64 requests
// in flight, as wrk does for the h1 table.
import http2 from 'node:http2';
import https from 'node:https';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { type Contender, NGINX_COMMON, freePort, loadAverage, startNginx, startNodeServer, startProcess, tempDir } from './io-model/harness.ts';
import {
  type Entrant, cpuMicros, entrant, hasCommand, interleave, machine, main, measureWrk, porticoAccepts, printResults, ratio, startPortico, suiteOptions, makeCertificate,
} from './suite.ts';
import { runH2load } from './tls/h2load.ts';

const HELLO = 'hello world\n';
const HTTP2_HELLO = join(import.meta.dirname, 'tls', 'http2-hello.ts');

async function nginxTls(cert: string, key: string): Promise<Contender> {
  const port = await freePort();
  return startNginx('nginx-tls', `${NGINX_COMMON(tempDir(), 'nginx-tls')}
  ssl_protocols TLSv1.3;
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    location / { default_type text/plain; return 200 "hello world\\n"; }
  }
}
`, port);
}

/** Caddy from its JSON config (exact body, no admin endpoint, no automatic HTTPS), in a private home. */
async function caddy(cert: string, key: string): Promise<Contender> {
  const port = await freePort();
  const home = join(tempDir(), 'caddy-home');
  mkdirSync(home, { recursive: true });
  const file = join(tempDir(), 'caddy.json');
  writeFileSync(file, JSON.stringify({
    admin: { disabled: true },
    logging: { logs: { default: { level: 'ERROR' } } },
    storage: { module: 'file_system', root: join(home, 'data') },
    apps: {
      http: { servers: { bench: {
        listen: [`127.0.0.1:${port}`],
        protocols: ['h1', 'h2'],
        automatic_https: { disable: true },
        tls_connection_policies: [{ default_sni: 'localhost' }],
        routes: [{ handle: [{ handler: 'static_response', status_code: 200, body: HELLO, headers: { 'Content-Type': ['text/plain'] } }] }],
      } } },
      tls: { certificates: { load_files: [{ certificate: cert, key }] } },
    },
  }));
  // `env` execs Caddy in place, so the harness's process group is Caddy's.
  return startProcess('caddy', 'env', ['GOMAXPROCS=1', `HOME=${home}`, `XDG_DATA_HOME=${home}`, `XDG_CONFIG_HOME=${home}`, 'caddy', 'run', '--config', file], port);
}

/** The hello over HTTP/1.1 and over h2, each negotiated by ALPN; anything else fails the scenario. */
async function check(c: Contender): Promise<void> {
  const h1 = await new Promise<{ status: number; body: string; alpn: string }>((resolve, reject) => {
    // ALPN is passed through to tls.connect (not in https.RequestOptions' type): what wrk offers.
    const options = { host: '127.0.0.1', port: c.port, path: '/', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], agent: false };
    const req = https.get(options, (res) => {
      let body = '';
      res.setEncoding('latin1').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body, alpn: String((res.socket as import('node:tls').TLSSocket).alpnProtocol) }));
    });
    req.on('error', reject);
  });
  if (h1.status !== 200 || h1.body !== HELLO || h1.alpn !== 'http/1.1') throw new Error(`${c.name}: https h1 gave ${h1.status} ${JSON.stringify(h1.body)} over ${h1.alpn}`);
  const session = http2.connect(`https://127.0.0.1:${c.port}`, { rejectUnauthorized: false });
  try {
    const h2 = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      session.on('error', reject);
      const stream = session.request({ ':path': '/' });
      let status = 0;
      let body = '';
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.setEncoding('latin1').on('data', (d: string) => (body += d)).on('end', () => resolve({ status, body })).on('error', reject);
    });
    if (h2.status !== 200 || h2.body !== HELLO) throw new Error(`${c.name}: h2 gave ${h2.status} ${JSON.stringify(h2.body)}`);
  } finally {
    session.close();
  }
}

async function measureH2(e: Entrant, seconds: number, streams: number) {
  const before = cpuMicros(e.groups);
  const r = await runH2load(e.port, seconds, '/', streams);
  if (r.protocol !== 'h2') throw new Error(`${e.name}: h2load negotiated ${r.protocol}, not h2`);
  return { ...r, cpuUsPerReq: (cpuMicros(e.groups) - before) / r.requests, originUsPerReq: 0 };
}

main(async () => {
  const { seconds, reps, values } = suiteOptions({ streams: '1' });
  const streams = Number(values.streams);
  if (!Number.isInteger(streams) || streams < 1) throw new Error(`--streams must be a positive integer, got ${values.streams}`);
  if (!hasCommand('h2load')) throw new Error('h2load is missing: apt-get install nghttp2-client (npm run bench installs it)');
  console.log(`${machine()}\nh1: wrk -t1 -c64 over TLS; h2: h2load -t1 -c64 -m${streams} (TLS_AES_256_GCM_SHA384); both pinned to core 1, ${seconds} s, ${reps} interleaved repetitions`);
  const { cert, key } = makeCertificate();
  const contenders: Contender[] = [await nginxTls(cert, key)];
  if (hasCommand('caddy')) contenders.push(await caddy(cert, key));
  else console.log('note: caddy is not installed (Debian package `caddy`): row left out');
  const tls = { certs: [{ cert, key }] };
  const config = { routes: [{ path: '/', respond: { status: 200, body: HELLO, headers: { 'content-type': 'text/plain' } } }] };
  for (const engine of ['node', 'portico'] as const) {
    if (await porticoAccepts({ ...config, listeners: [{ port: 1, engine, tls }] })) contenders.push(await startPortico(`portico ${engine} engine`, { config, engine, listener: { tls } }));
    else console.log(`note: the ${engine} engine does not serve TLS listeners yet: row left out`);
  }
  for (const api of ['stream', 'compat']) contenders.push(await startNodeServer(`node:http2 ${api} API`, HTTP2_HELLO, ['--cert', cert, '--key', key, '--api', api], await freePort()));
  for (const c of contenders) await check(c);
  console.log('checks: every contender answered the 12-byte hello over TLS, as HTTP/1.1 and as h2 (ALPN)');
  const entrants = contenders.map((c) => entrant(c, [], 'https'));
  const h1 = await interleave(entrants, reps, (e, warm) => measureWrk(e, warm ? 1 : seconds));
  printResults('HTTPS h1, 12 B answered by the server itself (wrk)', 'nginx-tls', h1);
  const h2 = await interleave(entrants, reps, (e, warm) => measureH2(e, warm ? 1 : seconds, streams));
  printResults(`HTTPS h2, 12 B answered by the server itself (h2load -m${streams})`, 'nginx-tls', h2);
  for (const e of entrants.filter((x) => x.name.startsWith('portico'))) console.log(`goal: ${e.name} h2 ≥ 0.8 of nginx: ${ratio(h2, e.name, 'nginx-tls').toFixed(2)}`);
  console.log(`\nload average at end: ${loadAverage()}`);
});
