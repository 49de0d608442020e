// The worker process: forked by the master with its WorkerConfig in the environment. It imports
// the app once, serves it on its unix socket, answers heartbeats, and drains on shutdown.
// Exit codes: 0 after a drain, 1 on a fatal error, 78 (EXIT_LOAD_ERROR) when the app cannot load.
import http from 'node:http';
import { unlinkSync } from 'node:fs';
import type net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type MasterMessage, type WorkerConfig, type WorkerMessage, type WorkerStats, EXIT_LOAD_ERROR, WORKER_CONFIG_ENV, describeError, isMasterMessage } from './ipc.ts';
import { TimedResponse } from './timed-response.ts';
import { loadApp } from './app-module.ts';
import type { NodeListener } from './fetch-bridge.ts';

const config = readConfig();
// The same id as the master's log fields and the x-portico-worker header: slot.generation.pid.
const label = `${config.name} ${config.slot}.${config.generation}.${process.pid}`;

function readConfig(): WorkerConfig {
  const raw = process.env[WORKER_CONFIG_ENV] ?? process.argv[2];
  if (raw === undefined || process.send === undefined) {
    console.error('portico worker: start me through the app server master (no config or IPC channel)');
    process.exit(EXIT_LOAD_ERROR);
  }
  return JSON.parse(raw) as WorkerConfig;
}

/** Sends to the master; `then` runs once the message is flushed (or the channel is gone). */
function send(msg: WorkerMessage, then?: () => void): void {
  if (process.send === undefined || !process.connected) {
    then?.();
    return;
  }
  process.send(msg, undefined, undefined, () => then?.());
}

/** Exits after telling the master why; the timer covers a master that stopped reading. */
function reportAndExit(msg: WorkerMessage, code: number): void {
  setTimeout(() => process.exit(code), 1_000).unref();
  send(msg, () => process.exit(code));
}

// Node's default would print and exit 1 too, but the master could only guess why: send the text.
process.on('uncaughtException', (err) => {
  console.error(`[worker ${label}] uncaught exception:`, err);
  reportAndExit({ type: 'fatal', ...describeError(err) }, 1);
});

let server: http.Server | undefined;
let draining = false;
/** Responses in progress, so a drain can close each connection as its response ends. */
const inflight = new Set<http.ServerResponse>();
const connections = new Set<Socket>();
/** Connections that have carried a request; the others were accepted and their request is due. */
const used = new WeakSet<Socket>();
/**
 * How long a drain leaves a connection that has not sent its first request yet. Accepted just
 * before the listener closed (likely in direct mode, where clients connect to the shared socket
 * at any moment), its request is on the wire or in the kernel buffer: destroying it at once
 * would fail a request the client sent correctly. Spare connections that never send one (undici
 * opens such) are closed after it.
 */
const FRESH_CONNECTION_GRACE_MS = 500;
let served = 0;
// Sampled every 20 ms; read and reset on each ping, so the lag is the worst delay of the last
// interval (the max, not a percentile: one long block is one sample, and must not be averaged away).
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();
/** Lets the operator (and a test through the whole stack) see which worker and generation answered. */
const workerHeader = `${config.slot}.${config.generation}.${process.pid}`;

function stats(): WorkerStats {
  const lag = loopDelay.count === 0 ? 0 : loopDelay.max / 1e6;
  loopDelay.reset();
  return { requests: served, inflight: inflight.size, rss: process.memoryUsage.rss(), eventLoopLag: Math.round(lag * 10) / 10 };
}

let gotSocket: (handle: object) => void = () => {};
/** Direct mode: resolves with the master's listening socket once asked for ('want-socket'). */
const sharedSocket = new Promise<object>((resolve) => (gotSocket = resolve));

process.on('message', (msg: unknown, handle: unknown) => {
  if (!isMasterMessage(msg)) return;
  handleMessage(msg, handle);
});

function handleMessage(msg: MasterMessage, handle: unknown): void {
  if (msg.type === 'ping') send({ type: 'pong', seq: msg.seq, stats: stats() });
  else if (msg.type === 'shutdown') drain('shutdown requested', msg.timeoutMs);
  else if (msg.type === 'socket' && typeof handle === 'object' && handle !== null) gotSocket(handle);
}

// The master died or dropped us: nobody will route here again, and no orphan may outlive it.
process.on('disconnect', () => drain('master disconnected'));
process.on('SIGTERM', () => drain('SIGTERM'));
// Ctrl-C in a terminal reaches the whole process group: drain like the master does, don't drop requests.
process.on('SIGINT', () => drain('SIGINT'));

function reportAppError(err: unknown, req: http.IncomingMessage): void {
  const id = req.headers['x-request-id'];
  console.error(`[worker ${label}] ${req.method} ${req.url}${typeof id === 'string' ? ` (request id ${id})` : ''} failed:`, err);
}

const loaded = await loadApp(config.module, reportAppError).catch((err: unknown) => {
  console.error(`[worker ${label}] cannot load ${config.module}:`, err);
  reportAndExit({ type: 'load-error', ...describeError(err) }, EXIT_LOAD_ERROR);
  return undefined;
});
if (loaded !== undefined) {
  if (draining) process.exit(0); // told to stop while the app was loading: nothing to drain
  serve(loaded.listener);
}

function serve(app: NodeListener): void {
  const srv = http.createServer({ ServerResponse: TimedResponse }, (req, res) => {
    inflight.add(res);
    used.add(req.socket);
    res.once('close', () => {
      inflight.delete(res);
      served++;
    });
    res.setHeader('x-portico-worker', workerHeader);
    // A request that arrives on a kept-alive connection after the drain began is still served
    // (it was sent before the data plane heard of the drain), but its connection closes after it.
    if (draining) res.setHeader('connection', 'close');
    app(req, res);
  });
  server = srv;
  srv.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  const where = config.listen === undefined ? config.socket : `${config.listen.host}:${config.listen.port}`;
  srv.on('error', (err) => {
    console.error(`[worker ${label}] cannot listen on ${where}:`, err);
    reportAndExit({ type: 'load-error', message: `cannot listen on ${where}: ${err.message}`, stack: err.stack }, EXIT_LOAD_ERROR);
  });
  if (config.listen !== undefined) {
    // Direct mode: listen() on a copy of the master's bound socket; this process accepts its own
    // connections (see shared-socket.ts). net.Server.listen takes a raw TCP handle.
    send({ type: 'want-socket' });
    void sharedSocket.then((handle) => {
      if (draining) return;
      srv.listen(handle as net.Server, () => {
        const a = srv.address() as AddressInfo;
        send({ type: 'ready', socket: '', pid: process.pid, address: { host: a.address, port: a.port } });
      });
    });
    return;
  }
  // A socket file left by a killed worker of the same slot would make listen() fail with EADDRINUSE.
  try {
    unlinkSync(config.socket);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  srv.listen(config.socket, () => send({ type: 'ready', socket: config.socket, pid: process.pid }));
}

/**
 * Graceful stop: accept nothing new, close idle connections now, and close each busy connection as
 * soon as its response ends. Node keeps kept-alive connections open after server.close()
 * (nodejs/node#2642), and its closeIdleConnections() skips connections that never sent a request
 * (undici opens such spares): either would keep a drained worker alive until a timeout.
 */
function drain(reason: string, timeoutMs = config.shutdownTimeout): void {
  if (draining) return;
  draining = true;
  setTimeout(() => {
    console.error(`[worker ${label}] drain (${reason}) exceeded ${timeoutMs} ms: exiting with ${inflight.size} request(s) in flight`);
    process.exit(1);
  }, timeoutMs).unref();
  const srv = server;
  if (srv === undefined) return; // still loading: the check after loadApp exits
  srv.close(() => process.exit(0));
  for (const res of inflight) {
    // Head not sent yet: node closes the connection after this response by itself.
    if (!res.headersSent) res.setHeader('connection', 'close');
    else res.once('finish', () => closeUnusedConnections(false));
  }
  closeUnusedConnections(false);
  setTimeout(() => closeUnusedConnections(true), Math.min(FRESH_CONNECTION_GRACE_MS, timeoutMs)).unref();
}

/**
 * Destroys every idle kept-alive connection (a response in progress keeps its connection until
 * 'finish', when the data is flushed), and with `fresh` those that never sent a request too.
 * Closing an idle kept-alive connection is what RFC 9112 §9.3.1 lets clients retry after.
 */
function closeUnusedConnections(fresh: boolean): void {
  const busy = new Set<unknown>();
  for (const res of inflight) if (res.socket !== null && !res.writableFinished) busy.add(res.socket);
  for (const socket of connections) if (!busy.has(socket) && (fresh || used.has(socket))) socket.destroy();
}
