// Reloading an in-process app (`portico reload` / SIGHUP → Stack.reload): the module is imported
// again so new code takes effect, a request already inside the old module finishes there, and a
// module that fails to import refuses the reload while the old one keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startStack } from './helpers/stack.ts';
import { waitFor } from './helpers/servers.ts';
import { validateConfig } from '../src/config/validate.ts';

const HOLD = Symbol.for('portico.test.in-process.hold');
type Holder = Record<symbol, (() => void) | undefined>;

/** A module answering `<version>` on every path, and holding `/hold` until the test releases it. */
function appSource(version: string): string {
  return `const HOLD = Symbol.for('portico.test.in-process.hold');
export default {
  async fetch(request) {
    if (new URL(request.url).pathname === '/hold') {
      await new Promise((resolve) => (globalThis[HOLD] = resolve));
      return new Response('${version} held\\n');
    }
    return new Response('${version}\\n');
  },
};
`;
}

async function get(url: string): Promise<string> {
  const r = await request(url);
  return `${r.statusCode} ${await r.body.text()}`;
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'portico-inproc-'));
  const module = join(dir, 'app.mjs');
  writeFileSync(module, appSource('v1'));
  return { dir, module };
}

test('reload imports the new code; a request inside the old module finishes there', async (t) => {
  const { module } = setup();
  const s = await startStack({ apps: { local: { module, mode: 'in-process' } }, routes: [{ path: '/', app: 'local' }] });
  t.after(() => s.close());
  assert.equal(await get(`${s.url}/`), '200 v1\n');
  const holder = globalThis as unknown as Holder;
  holder[HOLD] = undefined;
  const held = get(`${s.url}/hold`);
  const release = await waitFor(() => holder[HOLD], 'the request to be inside the v1 module');

  writeFileSync(module, appSource('v2'));
  await s.stack.reload(s.stack.config);
  assert.equal(await get(`${s.url}/`), '200 v2\n');
  release();
  assert.equal(await held, '200 v1 held\n', 'the in-flight request finished on the old module');
  const status = s.stack.status() as { inProcessApps: Record<string, { generation: number }> };
  assert.equal(status.inProcessApps.local.generation, 2);
});

test('a module that fails to import refuses the reload and the old one keeps serving', async (t) => {
  const { module } = setup();
  const s = await startStack({ apps: { local: { module, mode: 'in-process' } }, routes: [{ path: '/', app: 'local' }] });
  t.after(() => s.close());
  writeFileSync(module, `throw new Error('DATABASE_URL is not set');\nexport default { fetch: () => new Response('never') };\n`);
  await assert.rejects(s.stack.reload(s.stack.config), /DATABASE_URL is not set/);
  assert.equal(await get(`${s.url}/`), '200 v1\n');
  writeFileSync(module, `export default { hello: 1 };\n`);
  await assert.rejects(s.stack.reload(s.stack.config), /must `export default \{ fetch\(request\) \}`/);
  assert.equal(await get(`${s.url}/`), '200 v1\n');
  // Fixed code is taken by the next reload.
  writeFileSync(module, appSource('v3'));
  await s.stack.reload(s.stack.config);
  assert.equal(await get(`${s.url}/`), '200 v3\n');
});

test('a module that fails to import stops the start with its error', async () => {
  const { module } = setup();
  writeFileSync(module, `throw new Error('no config for the app');\n`);
  await assert.rejects(startStack({ apps: { local: { module, mode: 'in-process' } }, routes: [{ path: '/', app: 'local' }] }), /no config for the app/);
});

test('changing an app\'s mode needs a restart: the reload is refused and the app keeps its mode', async (t) => {
  const { dir, module } = setup();
  const s = await startStack({ apps: { local: { module, mode: 'in-process' } }, routes: [{ path: '/', app: 'local' }] });
  t.after(() => s.close());
  const next = validateConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], runtimeDir: s.stack.config.runtimeDir, apps: { local: { module, mode: 'workers' } }, routes: [{ path: '/', app: 'local' }] }, dir);
  assert.ok(next.ok);
  await assert.rejects(s.stack.reload(next.config), /apps\.local\.mode changed from 'in-process' to 'workers': restart/);
  assert.equal(await get(`${s.url}/`), '200 v1\n');
});
