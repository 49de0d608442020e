// ACME for one HTTPS listener: which hosts, where the store is, which lock, and which certificate
// the listener serves before the first one is issued — a leaf from the local development CA
// (dev-ca.ts) for the same hosts, so handshakes succeed (untrusted by clients) rather than fail.
import { join } from 'node:path';
import { isIP } from 'node:net';
import type { ResolvedAcme } from '../../config/resolved.ts';
import type { CertificateStore } from '../certificate-store.ts';
import { issueDevCertificate, type CertFiles } from '../dev-ca.ts';
import type { ListenerEnvironment } from '../listener.ts';
import type { EdgeRuntime } from '../request-mapping.ts';
import { AcmeChallenges } from './challenges.ts';
import { fileLock, redisLock } from './lock.ts';
import { AcmeManager } from './manager.ts';
import { certificatePaths, readStored } from './storage.ts';

export interface AcmeSetup {
  /** What the listener starts with: the stored certificate, or the development fallback. */
  readonly files: CertFiles[];
  /** Starts ordering / renewing into `store`; stop() on close. */
  start(store: CertificateStore): AcmeManager;
}

/** The names to order: configured, or the routes' exact hosts (a wildcard needs DNS-01, an IP RFC 8738). */
export function acmeHosts(acme: ResolvedAcme, routeHosts: readonly string[]): string[] {
  const hosts = acme.hosts !== null ? [...acme.hosts] : [...new Set(routeHosts.map((h) => h.toLowerCase()))].filter((h) => !h.startsWith('*.') && isIP(h) === 0);
  if (hosts.length === 0) throw new Error('tls.acme: no hosts to order a certificate for (set tls.acme.hosts or give routes exact hosts)');
  return hosts;
}

export async function prepareAcme(runtime: EdgeRuntime, acme: ResolvedAcme, listenerName: string, env: ListenerEnvironment): Promise<AcmeSetup> {
  const hosts = acmeHosts(acme, env.hosts);
  const storage = acme.storage ?? join(env.runtimeDir, 'acme');
  const paths = certificatePaths(storage, hosts);
  const stored = await readStored(paths, hosts);
  let files: CertFiles[];
  if (stored !== null && stored.notAfter > Date.now()) {
    files = [{ cert: paths.cert, key: paths.key }];
  } else {
    const fallback = await issueDevCertificate(env.runtimeDir, hosts, `${listenerName.replace(/[^\w.-]/g, '_')}-acme-fallback`);
    env.log('warn', 'ACME: no valid certificate stored yet; serving a development-CA certificate until one is issued', { listener: listenerName, hosts });
    files = [fallback];
  }
  const challenges = runtime.acmeChallenges ?? new AcmeChallenges();
  const lockName = paths.dir.slice(paths.dir.lastIndexOf('/') + 1);
  return {
    files,
    start(store) {
      const manager = new AcmeManager({
        acme,
        hosts,
        storage,
        challenges,
        lock: acme.redis !== null ? redisLock(acme.redis.url, `portico:acme:lock:${lockName}`) : fileLock(join(storage, 'locks', `${lockName}.lock`)),
        log: (level, msg, fields) => env.log(level, msg, { listener: listenerName, ...fields }),
        onCertificate(p) {
          const err = store.replaceFiles([{ cert: p.cert, key: p.key }]);
          if (err !== null) env.log('error', `ACME: the stored certificate did not load: ${err.message}`, { listener: listenerName });
        },
      });
      manager.start();
      return manager;
    },
  };
}
