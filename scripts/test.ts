// `npm test`: type check, lint, then node's test runner over every test file, in parallel.
// Unit tests sit beside their source (src/**/*.test.ts); journeys and failure scenarios in test/;
// the examples' own tests beside them (examples/**/*.test.ts).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

function step(label: string, cmd: string, args: string[]): void {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\n${label} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
  console.log(`${label}: ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function findTests(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'fixtures' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const only = process.argv.slice(2);
if (only.length === 0) {
  step('typecheck', bin('tsc'), ['--noEmit', '-p', '.']);
  step('lint', bin('eslint'), ['.']);
}
const files = only.length > 0 ? only : [...findTests(join(root, 'src'), []), ...findTests(join(root, 'test'), []), ...findTests(join(root, 'examples'), [])].sort();
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test' },
});
process.exit(r.status ?? 1);
