// The I/O-model benchmark: nginx as the reverse-proxy anchor, prototype A (node:http + undici)
// and prototype B (own HTTP/1.1 framing on net sockets), all in front of the same nginx origin
// answering 12 bytes. See docs/io-model.md for what the figures mean.
//
//   node bench/io-model/run.ts [--seconds 5] [--reps 3] [--no-chain] [--chain-reps 5]
//
// Method: every contender is checked once for the right body (and, for A and B, a POST with a
// Content-Length body and one with a chunked body), warmed up 2 s, then loaded with
// `taskset -c 1 wrk -t1 -c64 -d5s --latency` in interleaved repetitions (the order rotates each
// repetition so drift on this shared 2-core machine spreads over everyone). CPU per request is
// utime+stime of every process of the contender's group over the run, divided by the requests
// wrk counted.
import { parseArgs } from 'node:util';
import { runChainCost } from '../chain-cost.ts';
import {
  type Contender, type Measured, PROTOTYPE_A, PROTOTYPE_B, checkContender, describeMachine, freePort, measure, median,
  runWrk, startNginxProxy, startNodeServer, startOrigin, stopAll, table,
} from './harness.ts';

const fmt = (n: number, digits = 0) => n.toFixed(digits);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      reps: { type: 'string', default: '3' },
      'no-chain': { type: 'boolean', default: false },
      'chain-reps': { type: 'string', default: '5' },
    },
  });
  const seconds = Number(values.seconds);
  const reps = Number(values.reps);
  console.log(describeMachine());

  const [po, pn, pa, pb] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const origin = await startOrigin(po);
  const originUrl = `http://127.0.0.1:${po}`;
  const contenders = [
    await startNginxProxy(pn, po),
    await startNodeServer('A node:http+undici', PROTOTYPE_A, ['--origin', originUrl, '--procs', '2'], pa),
    await startNodeServer('B net+own framing', PROTOTYPE_B, ['--origin', originUrl, '--procs', '2'], pb),
  ];
  await checkContender(origin, false);
  for (const c of contenders) await checkContender(c, c !== contenders[0]);
  console.log('checks: every contender answered GET / with the 12-byte body; A and B also forwarded CL and chunked POST bodies');

  for (const c of contenders) await runWrk(c.port, 2); // warm-up (JIT, connection pools), not counted
  const results = new Map<Contender, Measured[]>(contenders.map((c) => [c, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(k + rep) % contenders.length];
      const m = await measure(c, origin, seconds);
      results.get(c)!.push(m);
      console.log(`  rep ${rep + 1} ${c.name.padEnd(20)} ${fmt(m.rps).padStart(7)} req/s  p50 ${fmt(m.p50Ms, 2)} ms  ` +
        `p99 ${fmt(m.p99Ms, 2)} ms  ${fmt(m.cpuUsPerReq, 1)} µs/req  (origin ${fmt(m.originUsPerReq, 1)} µs/req)  errors ${m.errors}`);
    }
  }

  const anchor = results.get(contenders[0])!;
  const anchorRps = median(anchor.map((m) => m.rps));
  const rows = contenders.map((c) => {
    const ms = results.get(c)!;
    const rps = median(ms.map((m) => m.rps));
    const perRep = ms.map((m, i) => fmt(m.rps / anchor[i].rps, 2)).join(' ');
    return [
      c.name, fmt(rps), ms.map((m) => fmt(m.rps / 1000, 1)).join(' '), fmt(rps / anchorRps, 2), perRep,
      fmt(median(ms.map((m) => m.p50Ms)), 2), fmt(median(ms.map((m) => m.p99Ms)), 2),
      fmt(median(ms.map((m) => m.cpuUsPerReq)), 1), fmt(median(ms.map((m) => m.originUsPerReq)), 1),
      String(ms.reduce((a, m) => a + m.errors, 0)),
    ];
  });
  console.log(`\nreverse proxy, 12 B keep-alive responses, ${reps} interleaved runs of ${seconds} s (medians):\n`);
  console.log(table(
    ['contender', 'req/s', 'runs (k req/s)', 'ratio to nginx', 'ratio per run', 'p50 ms', 'p99 ms', 'CPU µs/req', 'origin µs/req', 'errors'],
    rows,
  ));
  await stopAll();

  if (!values['no-chain']) {
    console.log('');
    await runChainCost({ seconds, reps: Number(values['chain-reps']) });
  }
}

if (import.meta.main) {
  main().then(() => process.exit(0), (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
