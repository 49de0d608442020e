// One contender per invocation, started by bench/appserver.ts through the io-model harness
// (which waits for the READY line and kills the whole process group afterwards):
//   node bench/appserver/servers.ts --port N --procs 2 --kind direct|stack|cluster
// (pm2 runs pm2-app.mjs itself.)
import cluster from 'node:cluster';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import hello from './hello-app.ts';

const { values } = parseArgs({ options: { port: { type: 'string' }, procs: { type: 'string', default: '2' }, kind: { type: 'string' } } });
const port = Number(values.port);
const procs = Number(values.procs);
const kind = values.kind;
const helloModule = fileURLToPath(new URL('./hello-app.ts', import.meta.url));
const quiet = () => {};

if (kind === 'direct') {
  const { startAppServer } = await import('../../src/appserver/index.ts');
  await startAppServer({ name: 'hello', module: helloModule, workers: procs, listen: { host: '127.0.0.1', port }, shutdownTimeout: 1_000, log: quiet });
  console.log(`READY ${port}`);
} else if (kind === 'stack') {
  const { validateConfig } = await import('../../src/config/validate.ts');
  const { Stack } = await import('../../src/stack.ts');
  const runtimeDir = mkdtempSync(join(tmpdir(), 'pbench-'));
  const result = validateConfig({
    listeners: [{ host: '127.0.0.1', port }], runtimeDir,
    apps: { hello: { module: helloModule, workers: procs } }, routes: [{ path: '/', app: 'hello' }],
  }, process.cwd());
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  await new Stack(result.config, { log: quiet }).start();
  console.log(`READY ${port}`);
} else if (kind === 'cluster') {
  // The reference: node:cluster's default (round-robin in the primary on Linux), bare node:http.
  if (cluster.isPrimary) {
    let ready = 0;
    for (let i = 0; i < procs; i++) cluster.fork().on('listening', () => ++ready === procs && console.log(`READY ${port}`));
  } else {
    http.createServer(hello).listen(port, '127.0.0.1');
  }
} else {
  throw new Error(`--kind must be direct, stack or cluster, got ${kind}`);
}
