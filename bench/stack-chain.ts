// Issue 2's layer-cost goal on the real stack: five pass-through layers must cost under 5% of the
// bare path's throughput. Two Portico stacks (0 and 5 layers) proxy to one nginx origin and are
// loaded in interleaved wrk runs; nginx as a proxy is measured in the same run as the anchor.
// The two stacks run the default edge engine (Portico's own framing, src/edge/h1); a third, 0 layers
// on node:http (`engine: 'node'`), shows what owning the framing buys.
//   node bench/stack-chain.ts [--seconds 5] [--reps 3]
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import {
  type Contender, type Measured, describeMachine, freePort, measure, median, startNginxProxy, startNodeServer, startOrigin, stopAll, table, loadAverage,
} from './io-model/harness.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, reps: { type: 'string', default: '3' } } });
const seconds = Number(values.seconds);
const reps = Number(values.reps);
const script = join(import.meta.dirname, 'stack-server.ts');

try {
  const origin = await startOrigin(await freePort());
  const nginx = await startNginxProxy(await freePort(), origin.port);
  const originUrl = `http://127.0.0.1:${origin.port}`;
  const bare = await startNodeServer('portico-0-layers', script, ['--origin', originUrl, '--layers', '0'], await freePort());
  const five = await startNodeServer('portico-5-layers', script, ['--origin', originUrl, '--layers', '5'], await freePort());
  const nodeEngine = await startNodeServer('node-engine-0-layers', script, ['--origin', originUrl, '--layers', '0', '--engine', 'node'], await freePort());
  const contenders: Contender[] = [nginx, bare, five, nodeEngine];
  const runs = new Map<string, Measured[]>(contenders.map((c) => [c.name, []]));
  for (const c of contenders) await measure(c, origin, 1); // warm-up (JIT, keep-alive pools)
  for (let r = 0; r < reps; r++) {
    for (const c of r % 2 === 0 ? contenders : [...contenders].reverse()) runs.get(c.name)!.push(await measure(c, origin, seconds));
  }
  const rps = (name: string) => median(runs.get(name)!.map((m) => m.rps));
  const rows = contenders.map((c) => {
    const m = runs.get(c.name)!;
    return [c.name, rps(c.name).toFixed(0), (rps(c.name) / rps(nginx.name)).toFixed(2), median(m.map((x) => x.cpuUsPerReq)).toFixed(1), m.map((x) => x.rps.toFixed(0)).join(' ')];
  });
  console.log(`${describeMachine('origin = nginx (1 worker) returning 12 bytes; nginx proxy 1 worker; Portico one process.')}\nload average at end: ${loadAverage()}; wrk -t1 -c64 -d${seconds}s, ${reps} interleaved repetitions, 12-byte origin response\n`);
  console.log(table(['contender', 'req/s (median)', 'vs nginx', 'CPU µs/req', 'runs'], rows));
  console.log(`\n5 no-op layers / 0 layers: ${(rps(five.name) / rps(bare.name)).toFixed(3)} (goal: ≥ 0.95)`);
  console.log(`portico engine / node engine (0 layers): ${(rps(bare.name) / rps(nodeEngine.name)).toFixed(3)}`);
} finally {
  await stopAll();
}
