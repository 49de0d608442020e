// The real Portico stack (edge → routing → proxy, as `portico up` builds it) in front of one
// origin, with N pass-through layers ahead of routing; or any config given as JSON (its first
// listener's port is set to --port). Prints `READY <port>` for the harness.
//   node bench/stack-server.ts --port P --origin http://127.0.0.1:O [--layers N]
//   node bench/stack-server.ts --port P --config '{"routes":[…]}'
// --engine node|portico picks the listener's HTTP/1.1 engine; without it, the config default (portico).
// --listener '{"tls":…,"limits":…}' adds fields to that listener (HTTPS, limits for idle-memory).
// --client portico|undici sets every pool's upstream client (the pool `client` field of the
// data-plane issue); without it the pools keep the config's default.
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from '../src/stack.ts';
import { validateConfig } from '../src/config/validate.ts';
import { createLogger } from '../src/observability/logger.ts';
import { noopLayers } from './io-model/server-common.ts';

const { values } = parseArgs({ options: { port: { type: 'string' }, origin: { type: 'string' }, layers: { type: 'string', default: '0' }, config: { type: 'string' }, engine: { type: 'string' },
  listener: { type: 'string', default: '{}' }, client: { type: 'string' },
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
const result = validateConfig({
  ...given,
  listeners: [{ ...(JSON.parse(values.listener) as object), host: '127.0.0.1', port: Number(values.port), ...(values.engine === undefined ? {} : { engine: values.engine }) }],
  runtimeDir,
}, process.cwd());
if (!result.ok) throw new Error(JSON.stringify(result.issues));
const stack = new Stack(result.config, { log: createLogger({ level: 'warn' }), layers: noopLayers(Number(values.layers)) });
await stack.start();
process.stdout.write(`READY ${values.port}\n`);
process.on('SIGTERM', () => void stack.stop(1000).then(() => process.exit(0)));
