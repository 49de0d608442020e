import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from './load.ts';
import { ConfigError, formatConfigIssues } from './errors.ts';

// The config files written below import the real API, as users' files do.
const api = pathToFileURL(join(import.meta.dirname, 'index.ts')).href;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'portico-load-'));
  writeFileSync(join(dir, 'app.ts'), 'export default { fetch: () => new Response("ok") };\n');
  mkdirSync(join(dir, 'public'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

async function rejection(file: string): Promise<ConfigError> {
  const error = await loadConfig(file).then(() => undefined, (err: unknown) => err);
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
  return error;
}

describe('loadConfig', () => {
  test('imports a TypeScript config, validates it against its own directory, and resolves it', async () => {
    const file = write('portico.config.ts', `
      import { defineConfig, type PorticoConfig } from '${api}';
      const apps: PorticoConfig['apps'] = { shop: { module: './app.ts', workers: 2 } };
      export default defineConfig({
        listeners: [{ port: 0 }],
        apps,
        routes: [
          { name: 'api', path: '/api', app: 'shop' },
          { path: '/', static: { root: './public', cacheControl: 'public, max-age=60' } },
        ],
        shutdownTimeout: '3s',
      });
    `);
    const config = await loadConfig(file);
    assert.equal(config.baseDir, dir);
    assert.equal(config.apps.shop.module, join(dir, 'app.ts'));
    assert.equal(config.apps.shop.workers, 2);
    assert.equal(config.shutdownTimeout, 3000);
    assert.deepEqual(config.routes.map((r) => r.kind), ['app', 'static']);
    assert.equal(config.runtimeDir, join(dir, '.portico'));
  });

  test('an invalid config throws one ConfigError listing every issue', async () => {
    const file = write('portico.config.ts', `
      export default {
        listeners: [{ port: 8080 }, { port: 8080 }],
        pools: { web: { servers: [{ url: 'http://127.0.0.1:3000' }] }, assets: { servers: [{ url: 'unix:assets.sock' }] } },
        routes: [{ upstream: 'web' }, { path: '/a', upstream: 'web' }, { path: '/api', upstream: 'api' }],
      };
    `);
    const error = await rejection(file);
    assert.equal(error.file, file);
    assert.deepEqual(error.issues, [
      { path: 'listeners[1].port', message: 'port 8080 is already used by listeners[0]' },
      { path: 'routes[2].upstream', message: 'unknown pool "api" (known: web, assets)' },
    ]);
    assert.equal(error.message, [
      'portico.config.ts: 2 errors',
      '  listeners[1].port: port 8080 is already used by listeners[0]',
      '  routes[2].upstream: unknown pool "api" (known: web, assets)',
    ].join('\n'));
  });

  test('a config that throws while importing is reported at (file)', async () => {
    const file = write('throws.config.ts', `throw new Error('PORT is not set');\nexport default {};\n`);
    const error = await rejection(file);
    assert.deepEqual(error.issues, [{ path: '(file)', message: 'PORT is not set' }]);
    assert.equal(error.message, 'throws.config.ts: 1 error\n  (file): PORT is not set');
    assert.ok(error.cause instanceof Error);
  });

  test('a syntax error is reported at (file), with the error kind', async () => {
    const file = write('syntax.config.ts', 'export default { routes: [ };\n');
    const error = await rejection(file);
    assert.equal(error.issues.length, 1);
    assert.equal(error.issues[0].path, '(file)');
    assert.match(error.issues[0].message, /^SyntaxError: /);
  });

  test('a file without a default export is reported', async () => {
    const error = await rejection(write('named.config.ts', 'export const config = { routes: [] };\n'));
    assert.deepEqual(error.issues, [{ path: '(file)', message: 'no default export: expected `export default defineConfig({ … })`' }]);
  });

  test('a missing file says so', async () => {
    const file = join(dir, 'nope.config.ts');
    const error = await rejection(file);
    assert.equal(error.message, `config file not found: ${file}`);
    assert.deepEqual(error.issues, [{ path: '(file)', message: `config file not found: ${file}` }]);
  });

  test('loading again sees the edited file (reload must not get the cached module)', async () => {
    const file = write('reload.config.ts', `export default { routes: [], shutdownTimeout: 1000 };\n`);
    assert.equal((await loadConfig(file)).shutdownTimeout, 1000);
    write('reload.config.ts', `export default { routes: [], shutdownTimeout: 2000 };\n`);
    assert.equal((await loadConfig(file)).shutdownTimeout, 2000);
  });
});

test('formatConfigIssues counts in the singular and plural', () => {
  assert.equal(formatConfigIssues('/x/portico.config.ts', [{ path: 'routes', message: 'm' }]), 'portico.config.ts: 1 error\n  routes: m');
  assert.equal(formatConfigIssues('a.ts', []), 'a.ts: 0 errors');
});
