// Chain cost: what do pass-through layers cost on the proxy path? DESIGN.md principle 1 says a
// layer wraps the next handler once, so a pass-through layer should cost one closure call per
// request. Goal: 5 layers cost < 5% of throughput.
//
//   node bench/chain-cost.ts [--seconds 5] [--reps 5]
//
// Two measurements, because the wrk one is noisy on a shared 2-core machine (±25% for Node rows
// per DESIGN.md): (1) wrk against prototypes A and B started with --layers 0 and --layers 5,
// the four servers loaded in adjacent interleaved runs; (2) an in-process loop timing the chain
// itself, which gives the per-request nanoseconds the layers add without network noise.
import { parseArgs } from 'node:util';
import { compose, layer } from '../src/http/compose.ts';
import type { Handler, Layer, PorticoRequest, PorticoResponse } from '../src/http/types.ts';
import {
  type Contender, type Measured, PROTOTYPE_A, PROTOTYPE_B, checkContender, describeMachine, freePort, measure,
  median, runWrk, startNodeServer, startOrigin, stopAll, table,
} from './io-model/harness.ts';
import { newContext } from './io-model/server-common.ts';

export interface ChainCostOptions {
  seconds: number;
  reps: number;
}

const fmt = (n: number, digits = 0) => n.toFixed(digits);

function noop(count: number): Layer[] {
  return Array.from({ length: count }, (_, i) => layer(`noop-${i}`, (next: Handler): Handler => (req, ctx) => next(req, ctx)));
}

/** ns per call of a composed chain whose terminal answers at once; 0 vs 5 layers, interleaved. */
async function microChain(): Promise<{ ns0: number; ns5: number }> {
  const res: PorticoResponse = { status: 200, headers: {}, body: null };
  const terminal: Handler = () => Promise.resolve(res);
  const req: PorticoRequest = { method: 'GET', target: '/', path: '/', query: '', headers: {}, body: null, httpVersion: '1.1' };
  const ctx = newContext('127.0.0.1', 1, 'localhost');
  const chains = [compose(noop(0), terminal), compose(noop(5), terminal)];
  const samples: number[][] = [[], []];
  const N = 200_000;
  for (let round = 0; round < 7; round++) {
    for (let k = 0; k < 2; k++) {
      const h = chains[k];
      const t0 = performance.now();
      for (let i = 0; i < N; i++) await h(req, ctx); // awaited like the edge does, one microtask per request
      if (round > 0) samples[k].push(((performance.now() - t0) * 1e6) / N); // round 0 warms up
    }
  }
  return { ns0: median(samples[0]), ns5: median(samples[1]) };
}

export async function runChainCost(options: ChainCostOptions): Promise<void> {
  const { seconds, reps } = options;
  const po = await freePort();
  const origin = await startOrigin(po);
  const originUrl = `http://127.0.0.1:${po}`;
  // B also gets a second 0-layer server: the 0 vs 0′ pair shows how much two identical server
  // instances differ (connection spread over SO_REUSEPORT processes, placement), so a 5 vs 0
  // difference smaller than that is noise, not layer cost.
  const start = async (name: string, script: string, layers: number) =>
    startNodeServer(name, script, ['--origin', originUrl, '--procs', '2', '--layers', String(layers)], await freePort());
  const b0 = await start('B layers=0', PROTOTYPE_B, 0);
  const b5 = await start('B layers=5', PROTOTYPE_B, 5);
  const b0c = await start("B layers=0'", PROTOTYPE_B, 0);
  const a0 = await start('A layers=0', PROTOTYPE_A, 0);
  const a5 = await start('A layers=5', PROTOTYPE_A, 5);
  const groups = [[b0, b5, b0c], [a0, a5]];
  const servers = groups.flat();
  for (const s of servers) await checkContender(s, false);
  for (const s of servers) await runWrk(s.port, 2); // warm-up
  const results = new Map<Contender, Measured[]>(servers.map((s) => [s, []]));
  for (let rep = 0; rep < reps; rep++) {
    // A group's servers run back to back; who goes first rotates each repetition.
    for (const group of groups) {
      for (let k = 0; k < group.length; k++) {
        const s = group[(k + rep) % group.length];
        const m = await measure(s, origin, seconds);
        results.get(s)!.push(m);
        console.log(`  rep ${rep + 1} ${s.name.padEnd(11)} ${fmt(m.rps).padStart(7)} req/s  ${fmt(m.cpuUsPerReq, 1)} µs/req`);
      }
    }
  }
  await stopAll();
  const micro = await microChain();

  const rows: string[][] = [];
  const pairs: [string, Contender, Contender][] = [
    ['B net+own framing: 5 vs 0', b0, b5], ["B control: 0' vs 0", b0, b0c], ['A node:http+undici: 5 vs 0', a0, a5],
  ];
  for (const [name, base, other] of pairs) {
    const r0 = results.get(base)!;
    const r1 = results.get(other)!;
    const ratios = r0.map((m, i) => r1[i].rps / m.rps);
    const delta = median(r0.map((m, i) => r1[i].cpuUsPerReq - m.cpuUsPerReq)); // per repetition, then median
    rows.push([
      name, fmt(median(r0.map((m) => m.rps))), fmt(median(r1.map((m) => m.rps))), fmt(median(ratios), 3),
      ratios.map((r) => fmt(r, 2)).join(' '), fmt(median(r0.map((m) => m.cpuUsPerReq)), 1),
      fmt(median(r1.map((m) => m.cpuUsPerReq)), 1), fmt(delta, 1),
    ]);
  }
  console.log(`\nchain cost: 0 vs 5 pass-through layers, ${reps} interleaved repetitions of ${seconds} s (medians):\n`);
  console.log(table(['comparison', 'req/s base', 'req/s other', 'ratio', 'ratio per rep', 'CPU µs/req base', 'CPU µs/req other', 'Δ µs/req (median of reps)'], rows));
  console.log(`\nin-process chain call (awaited, no I/O): 0 layers ${fmt(micro.ns0, 1)} ns, 5 layers ${fmt(micro.ns5, 1)} ns ` +
    `→ 5 layers add ${fmt(micro.ns5 - micro.ns0, 1)} ns per request`);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, reps: { type: 'string', default: '5' } } });
  console.log(describeMachine());
  runChainCost({ seconds: Number(values.seconds), reps: Number(values.reps) }).then(() => process.exit(0), (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
