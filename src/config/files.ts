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
  for (const [name, app] of parts.apps.parsed) {
    if (app.module === undefined) continue;
    const module = resolve(baseDir, app.module);
    const kind = kindOf(module);
    if (kind === 'missing') issues.push({ at: ['apps', name, 'module'], message: `file not found: ${module}` });
    else if (kind !== 'file') issues.push({ at: ['apps', name, 'module'], message: `expected a module file, got a ${kind}: ${module}` });
  }
  for (const { index, value: route } of parts.routes) {
    if (route.static === undefined) continue;
    const root = resolve(baseDir, route.static.root);
    const kind = kindOf(root);
    if (kind === 'missing') issues.push({ at: ['routes', index, 'static', 'root'], message: `directory not found: ${root}` });
    else if (kind !== 'directory') issues.push({ at: ['routes', index, 'static', 'root'], message: `expected a directory, got a ${kind}: ${root}` });
  }
}
