// Debian's pebble (Let's Encrypt's ACME test CA) for tests: started on free loopback ports with
// its own TLS certificate from a throwaway development CA (the Debian package ships no test
// certs), resolving names through the test's DNS server and validating HTTP-01 against
// `httpPort` and TLS-ALPN-01 against `tlsPort` — real validation over a real socket (never
// PEBBLE_VA_ALWAYS_VALID). `.ci/run` installs pebble when missing.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevCa, issueDevCertificate } from '../../src/edge/dev-ca.ts';
import { closedPort } from './servers.ts';

export interface Pebble {
  /** The ACME directory URL. */
  readonly directory: string;
  /** The CA that signed pebble's own HTTPS certificate (`tls.acme.caCert`). */
  readonly caCert: string;
  /** Everything pebble printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export interface PebbleOptions {
  /** Where pebble's validator connects for HTTP-01 (on the address the test DNS gives the name). */
  httpPort: number;
  /** Where it connects for TLS-ALPN-01 (RFC 8737); a free port nobody listens on when not given. */
  tlsPort?: number;
  dnsServer: string;
}

/**
 * Ports are found by bind-and-close, so another process (or a parallel test file) can take one
 * before pebble binds it; a pebble that then answers with the wrong listener (plain HTTP on the
 * directory port: EPROTO) or exits is started again on fresh ports, up to 3 times.
 */
export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    let pebble: Pebble | undefined;
    try {
      pebble = await startOnce(options);
      await directoryAnswers(pebble);
      return pebble;
    } catch (err) {
      last = err;
      await pebble?.stop();
    }
  }
  throw last;
}

/** The directory answers over TLS with pebble's CA: the listener we configured is really pebble's. */
function directoryAnswers(p: Pebble): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.get(p.directory, { ca: readFileSync(p.caCert), timeout: 5000 }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Error(`pebble directory answered ${res.statusCode}`));
    });
    req.once('timeout', () => req.destroy(new Error('pebble directory timed out')));
    req.once('error', reject);
  });
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await closedPort());
  return [...ports];
}

async function startOnce(options: PebbleOptions): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-pebble-'));
  const ca = await ensureDevCa(dir);
  const leaf = await issueDevCertificate(dir, ['localhost', '127.0.0.1'], 'pebble');
  const [port, management, freeTlsPort] = (await distinctPorts(5)).filter((p) => p !== options.httpPort && p !== options.tlsPort).slice(0, 3);
  const tlsPort = options.tlsPort ?? freeTlsPort;
  const config = join(dir, 'pebble-config.json');
  writeFileSync(config, JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${port}`,
      managementListenAddress: `127.0.0.1:${management}`,
      certificate: leaf.cert,
      privateKey: leaf.key,
      httpPort: options.httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
    },
  }));
  // NOSLEEP: no random validation delay; NONCEREJECT=0: no deliberate badNonce errors (5% by default).
  // ALWAYS_VALID would skip validation altogether: never inherited from the caller's environment.
  const env: NodeJS.ProcessEnv = { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' };
  delete env.PEBBLE_VA_ALWAYS_VALID;
  const child = spawn('pebble', ['-config', config, '-dnsserver', options.dnsServer], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d.toString('utf8');
      if (out.includes('Listening on')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`pebble exited (${code}) before it was ready:\n${out}`)));
    child.once('error', reject);
  });
  return {
    directory: `https://127.0.0.1:${port}/dir`,
    caCert: ca.cert,
    output: () => out,
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
