// Framework throughput: Portico's framework against Hono and Fastify, measured in the same run.
// Two scenarios: a hello-world route, and a table of 200 parametric routes hit at its last one
// (`/r199/:id/items/:item`, JSON of both params). Two paths: in-process (`app.request`, Hono's
// `app.request`, Fastify's `inject`) and over node:http (Portico through the app server's
// fetch bridge, Hono through @hono/node-server, Fastify's own server), loaded by wrk.
// Goal (issue 4): at or above Hono in both.
//
//   node bench/framework.ts [--seconds 5] [--reps 3] [--mode both|in-process|http] [--scenario both|hello|params]
//
// On a shared machine the figures swing by tens of percent; rounds are interleaved and the median
// is reported, so compare contenders within one run, never across runs.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import Fastify from 'fastify';
import { createApp } from '../src/framework/index.ts';
import { createFetchListener } from '../src/appserver/fetch-bridge.ts';
import { median, runWrk, table } from './io-model/harness.ts';

const ROUTES = 200;
const SCENARIOS = {
  hello: { path: '/', body: 'hello world' },
  params: { path: `/r${ROUTES - 1}/42/items/7`, body: '{"id":"42","item":"7"}' },
} as const;
type Scenario = keyof typeof SCENARIOS;

interface Contender {
  name: string;
  /** One in-process request; resolves to the body text. */
  inProcess(path: string): Promise<string>;
  /** Starts a node:http server; resolves to its port and a stop function. */
  listen(): Promise<{ port: number; stop(): Promise<void> }>;
}

function portico(adapter: 'bridge' | 'hono-node-server' = 'bridge'): Contender {
  const app = createApp();
  app.get('/', (c) => c.text('hello world'));
  for (let i = 0; i < ROUTES; i++) {
    app.get(`/r${i}/:id/items/:item`, (c) => c.json({ id: c.params.id, item: c.params.item }));
  }
  // The same app behind Hono's adapter separates the framework's cost from the bridge's.
  if (adapter === 'hono-node-server') {
    return { name: 'portico/hono-adapter', inProcess: async (path) => (await app.request(path)).text(), listen: () => serveFetch(app.fetch) };
  }
  return {
    name: 'portico',
    inProcess: async (path) => (await app.request(path)).text(),
    listen: () => listenNode(http.createServer(createFetchListener(app, (err) => console.error(err)))),
  };
}

function hono(): Contender {
  const app = new Hono();
  app.get('/', (c) => c.text('hello world'));
  for (let i = 0; i < ROUTES; i++) {
    app.get(`/r${i}/:id/items/:item`, (c) => c.json({ id: c.req.param('id'), item: c.req.param('item') }));
  }
  return {
    name: 'hono',
    inProcess: async (path) => (await app.request(path)).text(),
    listen: () => serveFetch(app.fetch),
  };
}

function serveFetch(fetch: (req: Request) => Response | Promise<Response>): Promise<{ port: number; stop(): Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      resolve({ port: info.port, stop: () => new Promise<void>((r) => server.close(() => r())) });
    });
  });
}

function fastify(): Contender {
  const f = Fastify();
  f.get('/', (_req, reply) => reply.type('text/plain; charset=utf-8').send('hello world'));
  for (let i = 0; i < ROUTES; i++) {
    f.get<{ Params: { id: string; item: string } }>(`/r${i}/:id/items/:item`, (req, reply) => reply.send({ id: req.params.id, item: req.params.item }));
  }
  return {
    name: 'fastify',
    inProcess: async (path) => (await f.inject({ method: 'GET', url: path })).body,
    listen: async () => {
      await f.listen({ port: 0, host: '127.0.0.1' });
      return { port: (f.server.address() as AddressInfo).port, stop: () => f.close() };
    },
  };
}

function listenNode(server: http.Server): Promise<{ port: number; stop(): Promise<void> }> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        stop: () => new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
      });
    });
  });
}

/** Requests per second in-process: 32 in flight, for `seconds`. */
async function inProcessRps(c: Contender, path: string, seconds: number): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      await c.inProcess(path);
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: 32 }, worker));
  return done / ((performance.now() - started) / 1000);
}

/** wrk -t1 -c64 pinned to core 1 (the io-model harness), against one path; error responses fail the run. */
async function wrkRps(port: number, path: string, seconds: number): Promise<number> {
  const r = await runWrk(port, Math.max(1, Math.round(seconds)), 64, path);
  if (r.errors > 0) throw new Error(`wrk saw ${r.errors} errors on :${port}${path}`);
  return r.rps;
}

async function check(c: Contender, scenario: Scenario, fetchBody: () => Promise<string>): Promise<void> {
  const got = await fetchBody();
  if (got !== SCENARIOS[scenario].body) throw new Error(`${c.name} ${scenario}: answered ${JSON.stringify(got)}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      reps: { type: 'string', default: '3' },
      mode: { type: 'string', default: 'both' },
      scenario: { type: 'string', default: 'both' },
    },
  });
  const seconds = Number(values.seconds);
  const reps = Number(values.reps);
  const scenarios: Scenario[] = values.scenario === 'both' ? ['hello', 'params'] : [values.scenario as Scenario];
  const contenders = values.mode === 'in-process' ? [portico(), hono(), fastify()] : [portico(), portico('hono-node-server'), hono(), fastify()];
  const rows: string[][] = [];
  console.log(`node ${process.version}; ${reps} interleaved rounds of ${seconds} s, median shown`);

  if (values.mode !== 'http') {
    for (const s of scenarios) {
      const path = SCENARIOS[s].path;
      for (const c of contenders) {
        await check(c, s, () => c.inProcess(path));
        for (let i = 0; i < 3000; i++) await c.inProcess(path); // warm up the JIT before timing
      }
      const samples = contenders.map(() => [] as number[]);
      for (let r = 0; r < reps; r++) {
        for (const [i, c] of contenders.entries()) samples[i].push(await inProcessRps(c, path, seconds));
      }
      rows.push(...row(`in-process ${s}`, contenders, samples));
    }
  }

  if (values.mode !== 'in-process') {
    const servers: { port: number; stop(): Promise<void> }[] = [];
    for (const c of contenders) servers.push(await c.listen());
    try {
      for (const s of scenarios) {
        const path = SCENARIOS[s].path;
        for (const [i, c] of contenders.entries()) {
          await check(c, s, async () => (await fetch(`http://127.0.0.1:${servers[i].port}${path}`)).text());
        }
        const samples = contenders.map(() => [] as number[]);
        for (let r = 0; r < reps; r++) {
          for (const i of contenders.keys()) samples[i].push(await wrkRps(servers[i].port, path, seconds));
        }
        rows.push(...row(`node:http ${s}`, contenders, samples));
      }
    } finally {
      await Promise.all(servers.map((sv) => sv.stop()));
    }
  }
  console.log(table(['scenario', 'framework', 'req/s', 'vs hono'], rows));
}

function row(label: string, contenders: Contender[], samples: number[][]): string[][] {
  const medians = samples.map((s) => median(s));
  const honoAt = contenders.findIndex((c) => c.name === 'hono');
  return contenders.map((c, i) => [label, c.name, medians[i].toFixed(0), `${((medians[i] / medians[honoAt]) * 100).toFixed(0)}%`]);
}

await main();
