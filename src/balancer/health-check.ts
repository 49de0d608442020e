// Active health checks (HAProxy's `check inter … rise … fall …`): every `interval` each server
// of the pool gets an HTTP request (expected status range, optional body substring) or a bare TCP
// connect. `fall` consecutive failures mark a server down, `rise` consecutive successes bring it
// back. The verdict lives on the server object, so it survives a reload of the config; traffic
// never marks a server up, only checks do.
import http from 'node:http';
import net from 'node:net';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { probeOverTls, type Judge } from './tls-probe.ts';
import type { ResolvedHealthCheck } from '../config/resolved.ts';
import type { UpstreamServer } from './server.ts';
import type { UpstreamPool } from './upstream-pool.ts';
import type { PoolLog } from './pool-settings.ts';

/** Body bytes read for a body match: a health page is small, and a huge one must not hold memory. */
const MAX_BODY = 64 * 1024;

type Target = { host: string; port: number } | { socketPath: string };

function targetOf(url: string): Target {
  if (url.startsWith('unix:')) return { socketPath: url.slice(5) };
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port) };
}

/**
 * One check; resolves true when the server passed. Never rejects. An HTTP check of an `https://`
 * server (`tls` given) runs over TLS with the pool's settings (src/balancer/tls-probe.ts), so a
 * certificate the proxy would refuse also fails the check; a TCP check only connects.
 */
export function probe(url: string, check: ResolvedHealthCheck, tls: TlsConnectionOptions | null = null): Promise<boolean> {
  const target = targetOf(url);
  return new Promise<boolean>((resolve) => {
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => { cleanup(); finish(false); }, check.timeout);
    let cleanup = () => {};
    if (check.type === 'tcp') {
      const socket = 'socketPath' in target ? net.connect(target.socketPath) : net.connect(target.port, target.host);
      cleanup = () => socket.destroy();
      socket.once('connect', () => { socket.destroy(); finish(true); });
      socket.once('error', () => finish(false));
      return;
    }
    const judge: Judge = (status, res, abort) => {
      const statusOk = status >= check.status[0] && status <= check.status[1];
      if (!statusOk || check.body === null) {
        res.resume();
        res.once('end', () => finish(statusOk));
        res.once('error', () => finish(statusOk));
        return;
      }
      const want = check.body;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.includes(want)) { abort(); finish(true); } else if (text.length > MAX_BODY) { abort(); finish(false); }
      });
      res.once('end', () => finish(text.includes(want)));
      res.once('error', () => finish(false));
    };
    if (tls !== null && 'host' in target) {
      cleanup = probeOverTls(target, check, tls, judge, () => finish(false));
      return;
    }
    const req = http.request({
      ...target, method: check.method, path: check.path, agent: false,
      headers: { host: 'host' in target ? target.host : 'localhost', 'user-agent': 'portico-health-check', connection: 'close' },
    });
    cleanup = () => req.destroy();
    req.once('error', () => finish(false));
    req.once('response', (res) => judge(res.statusCode ?? 0, res, () => req.destroy()));
    req.end();
  });
}

export class HealthChecker {
  private readonly pool: UpstreamPool;
  private readonly log: PoolLog;
  config: ResolvedHealthCheck;
  private timer: NodeJS.Timeout | null = null;
  private readonly running = new Set<UpstreamServer>();

  constructor(pool: UpstreamPool, config: ResolvedHealthCheck, log: PoolLog) {
    this.pool = pool;
    this.config = config;
    this.log = log;
  }

  start(): void {
    if (this.timer !== null) return;
    this.tick();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Applies a reloaded check config; the next round uses it. */
  update(config: ResolvedHealthCheck): void {
    this.config = config;
  }

  private tick(): void {
    for (const s of this.pool.list()) void this.checkOne(s);
    this.timer = setTimeout(() => this.tick(), this.config.interval);
    // Health checks alone must not keep a process alive.
    this.timer.unref();
  }

  private async checkOne(s: UpstreamServer): Promise<void> {
    // A check still waiting on its timeout is not doubled up by the next round.
    if (this.running.has(s)) return;
    this.running.add(s);
    const ok = await probe(s.url, this.config, s.tls);
    this.running.delete(s);
    if (this.timer === null) return;
    this.record(s, ok);
  }

  /** Counts one result toward `rise`/`fall` and flips the server's health when a threshold is met. */
  record(s: UpstreamServer, ok: boolean): void {
    if (ok) {
      s.checkFailures = 0;
      s.checkSuccesses++;
      if (!s.healthy && s.checkSuccesses >= this.config.rise) {
        s.healthy = true;
        this.log('info', `pool "${this.pool.name}": server ${s.address} is up (${s.checkSuccesses} checks passed)`, { pool: this.pool.name, server: s.address });
        this.pool.restored(s);
      }
    } else {
      s.checkSuccesses = 0;
      s.checkFailures++;
      if (s.healthy && s.checkFailures >= this.config.fall) {
        s.healthy = false;
        this.log('warn', `pool "${this.pool.name}": server ${s.address} is down (${s.checkFailures} checks failed)`, { pool: this.pool.name, server: s.address });
        this.pool.wake();
      }
    }
  }
}
