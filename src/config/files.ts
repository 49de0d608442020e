// The only checks that look outside the config object: do the app modules and static roots exist?
// Caught here, a typo in a path fails `portico check` instead of the first request after start-up.
import { readFileSync, statSync } from 'node:fs';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import type { Issue } from './issues.ts';
import type { ParsedParts } from './parse.ts';

function kindOf(path: string): 'file' | 'directory' | 'other' | 'missing' {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return 'missing';
  return stat.isFile() ? 'file' : stat.isDirectory() ? 'directory' : 'other';
}

export function checkFiles(parts: ParsedParts, baseDir: string, issues: Issue[]): void {
  // TLS files: a missing certificate fails `portico check`, not the listener at start.
  for (const { index, value: listener } of parts.listeners ?? []) {
    if (listener.tls === undefined || listener.tls === 'dev') continue;
    const caCert = (listener.tls as { acme?: { caCert?: string } }).acme?.caCert;
    if (caCert !== undefined && kindOf(resolve(baseDir, caCert)) !== 'file') issues.push({ at: ['listeners', index, 'tls', 'acme', 'caCert'], message: `file not found: ${resolve(baseDir, caCert)}` });
    if (!('certs' in listener.tls)) continue;
    (listener.tls.certs as { cert: string; key: string }[]).forEach((pair, i) => {
      for (const field of ['cert', 'key'] as const) {
        const path = resolve(baseDir, pair[field]);
        const kind = kindOf(path);
        if (kind !== 'file') issues.push({ at: ['listeners', index, 'tls', 'certs', i, field], message: kind === 'missing' ? `file not found: ${path}` : `expected a PEM file, got a ${kind}: ${path}` });
      }
    });
  }
  for (const [name, app] of parts.apps.parsed) {
    if (app.module === undefined) continue;
    const module = resolve(baseDir, app.module);
    const kind = kindOf(module);
    if (kind === 'missing') issues.push({ at: ['apps', name, 'module'], message: `file not found: ${module}` });
    else if (kind !== 'file') issues.push({ at: ['apps', name, 'module'], message: `expected a module file, got a ${kind}: ${module}` });
  }
  for (const [name, pool] of parts.pools.parsed) {
    if (pool.tls !== undefined) checkUpstreamTlsFiles(pool.tls, ['pools', name, 'tls'], baseDir, issues);
    if (pool.maintenancePage === undefined) continue;
    const page = resolve(baseDir, pool.maintenancePage);
    const kind = kindOf(page);
    if (kind !== 'file') issues.push({ at: ['pools', name, 'maintenancePage'], message: kind === 'missing' ? `file not found: ${page}` : `expected an HTML file, got a ${kind}: ${page}` });
  }
  for (const { index, value: route } of parts.routes) {
    if (route.static === undefined) continue;
    const root = resolve(baseDir, route.static.root);
    const kind = kindOf(root);
    if (kind === 'missing') issues.push({ at: ['routes', index, 'static', 'root'], message: `directory not found: ${root}` });
    else if (kind !== 'directory') issues.push({ at: ['routes', index, 'static', 'root'], message: `expected a directory, got a ${kind}: ${root}` });
  }
}

/**
 * A pool's client-side TLS files are read and parsed here, so a wrong path, a key in place of a
 * certificate or a key that does not belong to its certificate fails `portico check`, not every request.
 */
function checkUpstreamTlsFiles(tls: { ca?: string | string[]; cert?: string; key?: string }, at: readonly (string | number)[], baseDir: string, issues: Issue[]): void {
  const read = (file: string, where: readonly (string | number)[], what: string): Buffer | null => {
    const path = resolve(baseDir, file);
    const kind = kindOf(path);
    if (kind === 'file') return readFileSync(path);
    issues.push({ at: where, message: kind === 'missing' ? `file not found: ${path}` : `expected ${what}, got a ${kind}: ${path}` });
    return null;
  };
  const certificate = (file: string, where: readonly (string | number)[]): X509Certificate | null => {
    const pem = read(file, where, 'a PEM certificate file');
    if (pem === null) return null;
    try {
      return new X509Certificate(pem);
    } catch {
      issues.push({ at: where, message: `not a PEM certificate: ${resolve(baseDir, file)}` });
      return null;
    }
  };
  const cas = tls.ca === undefined ? [] : Array.isArray(tls.ca) ? tls.ca : [tls.ca];
  cas.forEach((file, i) => certificate(file, Array.isArray(tls.ca) ? [...at, 'ca', i] : [...at, 'ca']));
  if (tls.cert === undefined || tls.key === undefined) return;
  const cert = certificate(tls.cert, [...at, 'cert']);
  const pem = read(tls.key, [...at, 'key'], 'a PEM private key file');
  if (pem === null) return;
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    issues.push({ at: [...at, 'key'], message: `not an unencrypted PEM private key: ${resolve(baseDir, tls.key)}` });
    return;
  }
  if (cert !== null && !cert.checkPrivateKey(key)) issues.push({ at: [...at, 'key'], message: `this key does not belong to the certificate in ${resolve(baseDir, tls.cert)}` });
}
