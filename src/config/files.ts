// The only checks that look outside the config object: do the app modules and static roots exist?
// Caught here, a typo in a path fails `portico check` instead of the first request after start-up.
import { statSync } from 'node:fs';
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
