// h2load (nghttp2-client) as the HTTP/2 load generator: -t1 -c64 -m1 pinned to core 1 like wrk,
// so the h1 and h2 tables load the same way (64 requests in flight; `streams` raises -m, the
// concurrent streams per connection). h2load prints no percentiles: p50/p99 come from its
// per-request log (--log-file: start µs, status, duration µs).
// The TLS 1.3 suite is fixed to TLS_AES_256_GCM_SHA384 for every contender: h2load offers
// AES-128-GCM first, which servers honouring the client's order (nginx, Caddy) pick while Node
// (server order) picks AES-256-GCM; wrk's OpenSSL default offer gives AES-256-GCM everywhere, so
// this is also the h1 table's suite. Checked on every run.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, type WrkResult } from '../io-model/harness.ts';

export const H2LOAD_TLS13_SUITE = 'TLS_AES_256_GCM_SHA384';

export function runH2load(port: number, seconds: number, path = '/', streams = 1): Promise<WrkResult & { protocol: string }> {
  const log = join(tempDir(), `h2load-${port}-${Date.now()}.log`);
  const args = ['-c', '1', 'h2load', '-t1', '-c64', `-m${streams}`, `--tls13-ciphers=${H2LOAD_TLS13_SUITE}`, `-D${seconds}`, `--log-file=${log}`, `https://127.0.0.1:${port}${path}`];
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`h2load exited with ${code}:\n${out}`));
      const rps = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out);
      const reqs = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
      const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
      const protocol = /Application protocol: (\S+)/.exec(out)?.[1] ?? '?';
      const cipher = /Cipher: (\S+)/.exec(out)?.[1] ?? '?';
      if (cipher !== H2LOAD_TLS13_SUITE) return reject(new Error(`h2load negotiated ${cipher}, not ${H2LOAD_TLS13_SUITE}:\n${out}`));
      if (!rps || !reqs || !codes) return reject(new Error(`cannot parse h2load output:\n${out}`));
      const durations = readFileSync(log, 'latin1').split('\n').filter((l) => l !== '').map((l) => Number(l.split('\t')[2])).sort((a, b) => a - b);
      rmSync(log, { force: true });
      const pct = (p: number) => (durations.length === 0 ? NaN : durations[Math.min(durations.length - 1, Math.floor(durations.length * p))] / 1000);
      // `failed` already counts the errored and timed-out streams; a non-2xx status is an error here too.
      const errors = Number(reqs[5]) + Number(codes[2]) + Number(codes[3]) + Number(codes[4]);
      resolve({ rps: Number(rps[1]), requests: Number(reqs[4]), p50Ms: pct(0.5), p99Ms: pct(0.99), errors, protocol });
    });
  });
}
