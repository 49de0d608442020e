// A server for `attribute.ts` that can say where its memory is: run with --expose-gc and an IPC
// channel; on 'measure' it collects garbage and answers process.memoryUsage() with the V8 heap
// figures, on 'snapshot <file>' it writes a heap snapshot there. Without an IPC channel it prints
// `READY <port>` like the other bench servers (bench/idle-memory.ts's bare-net floor row).
//   --kind bare      net.createServer answering the fixed 12 bytes once per request head: the floor
//                    Node itself imposes (net.Socket, its stream state, the libuv handle)
//   --kind portico | node   Portico's edge listener on that engine, answering from a fixed handler
import net from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';

const { values } = parseArgs({ options: { kind: { type: 'string' }, port: { type: 'string' }, connections: { type: 'string', default: '10000' } } });
const port = Number(values.port);
const gc = (globalThis as { gc?: () => void }).gc;

const ANSWER = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world\n';

// Shared listeners: the floor should hold nothing per connection beyond what node:net itself makes.
function answer(this: net.Socket, chunk: Buffer): void {
  // One answer per complete head is all the idle client needs.
  if (chunk.includes('\r\n\r\n')) this.write(ANSWER);
}
const ignore = (): void => {};

if (values.kind === 'bare') {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('data', answer);
    socket.on('error', ignore);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
} else if (values.kind === 'stack') {
  // The whole Stack on the portico engine, as bench/idle-memory.ts runs it (access log included).
  const { Stack } = await import('../../src/stack.ts');
  const { validateConfig } = await import('../../src/config/validate.ts');
  const { createLogger } = await import('../../src/observability/logger.ts');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const n = Number(values.connections);
  const result = validateConfig({
    routes: [{ path: '/', respond: { status: 200, body: 'hello world\n', headers: { 'content-type': 'text/plain' } } }],
    listeners: [{ host: '127.0.0.1', port, limits: { keepAliveTimeout: '10m', maxConnections: n + 1024, maxConnectionsPerIp: 0 } }],
    accessLog: { format: 'combined', path: '/dev/null' },
    runtimeDir: mkdtempSync(join(tmpdir(), 'portico-probe-')),
  }, process.cwd());
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  await new Stack(result.config, { log: createLogger({ level: 'warn' }) }).start();
} else {
  // The edge alone (what an idle connection touches), not the whole Stack: routing and the layers
  // hold nothing per connection, and the probe does not break while others edit src/stack.ts.
  const { createH1Server } = await import('../../src/edge/h1/h1-server.ts');
  const { createHttpListener } = await import('../../src/edge/http-listener.ts');
  const { trustedPeers } = await import('../../src/edge/trusted-peers.ts');
  const { DEFAULT_LIMITS } = await import('../../src/edge/limits.ts');
  const n = Number(values.connections);
  // As bench/idle-memory.ts configures the listener: nothing is closed during the measurement.
  const limits = { ...DEFAULT_LIMITS, keepAliveTimeout: 600_000, maxConnections: n + 1024, maxConnectionsPerIp: 0 };
  const runtime = {
    trusted: trustedPeers(['127.0.0.1/8', '::1']),
    handler: () => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'hello world\n' }),
  };
  const server = values.kind === 'portico' ? createH1Server(runtime, { policy: null, limits }).server : createHttpListener(runtime, { limits });
  server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

if (process.send === undefined) process.stdout.write(`READY ${port}\n`);
else if (gc === undefined) throw new Error('with an IPC channel, run with --expose-gc');
else serveProbe(gc, process.send.bind(process));

function serveProbe(gc: () => void, send: (msg: unknown) => void): void {
  process.on('message', (msg: string) => {
    if (msg === 'measure') {
      gc();
      gc();
      const m = process.memoryUsage();
      const h = v8.getHeapStatistics();
      const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((sp) => [sp.space_name, sp.physical_space_size]));
      send({ ...m, totalHeapSize: h.total_heap_size, mallocedMemory: h.malloced_memory, spaces });
    } else if (msg.startsWith('snapshot ')) {
      gc();
      v8.writeHeapSnapshot(msg.slice('snapshot '.length));
      send('written');
    } else if (msg === 'exit') process.exit(0);
  });
  send('ready');
}
