// What both prototypes share: command-line flags, the no-op layer chain used by the chain-cost
// benchmark, the request context, and the multi-process launcher.
//
// Processes: `--procs N` (default 2) starts N copies of the server, each with its own
// SO_REUSEPORT listener, so the kernel spreads connections and no primary process relays
// handles (what the measured facts in DESIGN.md used). The launcher stays idle; run.ts sums
// CPU over the whole process group.
import { type ChildProcess, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { layer } from '../../src/http/compose.ts';
import { RequestContext } from '../../src/http/context.ts';
import type { Layer } from '../../src/http/types.ts';

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly origin: URL;
  /** Number of pass-through layers in front of the terminal handler. */
  readonly layers: number;
  readonly procs: number;
}

export function parseServerArgs(argv: readonly string[] = process.argv.slice(2)): ServerOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      origin: { type: 'string' },
      layers: { type: 'string', default: '0' },
      procs: { type: 'string', default: '2' },
    },
    strict: true,
  });
  if (values.port === undefined || values.origin === undefined) {
    throw new Error('usage: --port N --origin http://127.0.0.1:P [--layers N] [--procs N] [--host H]');
  }
  const origin = new URL(values.origin);
  if (origin.protocol !== 'http:') throw new Error('--origin must be an http:// URL');
  const int = (name: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${v}`);
    return n;
  };
  return {
    host: values.host,
    port: int('port', values.port, 1),
    origin,
    layers: int('layers', values.layers, 0),
    procs: int('procs', values.procs, 1),
  };
}

/**
 * N layers that really wrap: each adds one closure call per request, the cost the contract
 * promises for a pass-through layer (src/http/compose.ts).
 */
export function noopLayers(count: number): Layer[] {
  const out: Layer[] = [];
  for (let i = 0; i < count; i++) out.push(layer(`noop-${i}`, (next) => (req, ctx) => next(req, ctx)));
  return out;
}

/** The edge's per-request context; one place to follow the constructor as src/http evolves. */
export function newContext(address: string, port: number, host: string): RequestContext {
  return new RequestContext(address, false, address, port, 'http', host);
}

/**
 * Runs `start` in this process (procs = 1, or when launched as a child), or spawns `procs`
 * children of this same script and prints `READY <port>` once every one of them listens.
 */
export function launch(options: ServerOptions, start: (options: ServerOptions) => Promise<void>): void {
  const isChild = process.env.PORTICO_BENCH_CHILD === '1';
  if (options.procs <= 1 || isChild) {
    // Exit cleanly on a signal so that `--cpu-prof` can write its profile.
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
    start(options).then(
      () => {
        console.log(`READY ${options.port} pid=${process.pid}`);
        // A child exits with its launcher: the IPC channel closes when the parent dies.
        if (isChild) process.on('disconnect', () => process.exit(0));
      },
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
    return;
  }
  const script = process.argv[1];
  const args = process.argv.slice(2);
  let ready = 0;
  const children: ChildProcess[] = [];
  for (let i = 0; i < options.procs; i++) {
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
      env: { ...process.env, PORTICO_BENCH_CHILD: '1' },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    children.push(child);
    child.on('exit', (code) => {
      console.error(`worker ${child.pid} exited with ${code}`);
      process.exit(1);
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('READY ') && ++ready === options.procs) console.log(`READY ${options.port} pid=${process.pid}`);
    });
  }
  const stop = () => {
    for (const c of children) c.kill('SIGKILL');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
