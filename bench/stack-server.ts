// The real Portico stack (edge → routing → proxy, as `portico up` builds it) in front of one
// origin, with N pass-through layers ahead of routing; or any config given as JSON (its first
// listener's port is set to --port). Prints `READY <port>` for the harness.
//   node bench/stack-server.ts --port P --origin http://127.0.0.1:O [--layers N]
//   node bench/stack-server.ts --port P --config '{"routes":[…]}'
// --engine node|portico picks the listener's HTTP/1.1 engine; without it, the config default (portico).
// --listener '{"tls":…,"limits":…}' adds fields to that listener (HTTPS, limits for idle-memory).
// --client portico|undici sets every pool's upstream client (the pool `client` field of the
// data-plane issue); without it the pools keep the config's default.
// --processes N runs N data-plane processes as `portico up` does with `processes: N` (src/dataplane:
// a primary and N-1 replicas on the port with SO_REUSEPORT, in this process group); no extra layers.
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from '../src/stack.ts';
import { validateConfig } from '../src/config/validate.ts';
import { createLogger } from '../src/observability/logger.ts';
import { noopLayers } from './io-model/server-common.ts';

const { values } = parseArgs({ options: { port: { type: 'string' }, origin: { type: 'string' }, layers: { type: 'string', default: '0' }, config: { type: 'string' }, engine: { type: 'string' },
  listener: { type: 'string', default: '{}' }, client: { type: 'string' }, processes: { type: 'string', default: '1' },
} });
const given = values.config === undefined
  ? { pools: { origin: { servers: [{ url: values.origin! }] } }, routes: [{ path: '/', upstream: 'origin' }] }
  : JSON.parse(values.config) as Record<string, unknown>;
if (values.client !== undefined) {
  const pools = (given.pools ?? {}) as Record<string, Record<string, unknown>>;
  for (const name of Object.keys(pools)) pools[name] = { ...pools[name], client: values.client };
}
const runtimeDir = mkdtempSync(join(tmpdir(), 'portico-bench-'));
process.on('exit', () => rmSync(runtimeDir, { recursive: true, force: true }));
const listeners = [{ ...(JSON.parse(values.listener) as object), host: '127.0.0.1', port: Number(values.port), ...(values.engine === undefined ? {} : { engine: values.engine }) }];
const result = validateConfig({ ...given, listeners, runtimeDir }, process.cwd());
if (!result.ok) throw new Error(JSON.stringify(result.issues));
const log = createLogger({ level: 'warn' });
if (Number(values.processes) > 1) {
  // Replicas read the config from a file, as under `portico up`; no access log, as in the one-process rows.
  const file = join(runtimeDir, 'portico.config.mjs');
  writeFileSync(file, `export default ${JSON.stringify({ ...given, listeners, runtimeDir, processes: Number(values.processes), accessLog: false })};\n`);
  process.env.PORTICO_LOG_LEVEL = 'warn';
  const { startPrimary } = await import('../src/dataplane/primary.ts');
  const { loadConfig } = await import('../src/config/load.ts');
  await startPrimary(file, await loadConfig(file), log); // SIGTERM: handled there (stop all, exit 0)
} else {
  const stack = new Stack(result.config, { log, layers: noopLayers(Number(values.layers)) });
  await stack.start();
  process.on('SIGTERM', () => void stack.stop(1000).then(() => process.exit(0)));
}
process.stdout.write(`READY ${values.port}\n`);
