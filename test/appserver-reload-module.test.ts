// A reload re-imports a worker app's module on new workers; a *different* module path is another
// app, not new code: the reload is refused with the reason and the workers keep serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startStack } from './helpers/stack.ts';
import { validateConfig } from '../src/config/validate.ts';

const fetchApp = fileURLToPath(new URL('./fixtures/apps/fetch-app.ts', import.meta.url));
const honoApp = fileURLToPath(new URL('./fixtures/apps/hono-app.ts', import.meta.url));

test('changing a worker app\'s module needs a restart: the reload is refused and the app keeps serving', async (t) => {
  const routes = [{ path: '/', app: 'web' }];
  const s = await startStack({ apps: { web: { module: fetchApp, workers: 1 } }, routes });
  t.after(() => s.close());
  const before = (await fetch(s.url)).status;
  const next = validateConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], runtimeDir: s.stack.config.runtimeDir, apps: { web: { module: honoApp, workers: 1 } }, routes }, process.cwd());
  assert.ok(next.ok);
  await assert.rejects(s.stack.reload(next.config), /apps\.web\.module changed from .*fetch-app\.ts to .*hono-app\.ts: restart/);
  assert.equal((await fetch(s.url)).status, before);
  // The same module reloads as before.
  await s.stack.reload(s.stack.config);
  assert.equal((await fetch(s.url)).status, before);
});
