// The worker process: forked by the master with its WorkerConfig in the environment. It imports
// the app once, serves it on its unix socket, answers heartbeats, and drains on shutdown.
// Exit codes: 0 after a drain, 1 on a fatal error, 78 (EXIT_LOAD_ERROR) when the app cannot load.
import http from 'node:http';
import { unlinkSync } from 'node:fs';
import type { Socket } from 'node:net';
import { type MasterMessage, type WorkerConfig, type WorkerMessage, EXIT_LOAD_ERROR, WORKER_CONFIG_ENV, describeError, isMasterMessage } from './ipc.ts';
import { TimedResponse } from './timed-response.ts';
import { loadApp } from './app-module.ts';
import type { NodeListener } from './fetch-bridge.ts';

const config = readConfig();
const label = `${config.name}#${config.slot} g${config.generation} pid ${process.pid}`;

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

process.on('message', (msg: unknown) => {
  if (!isMasterMessage(msg)) return;
  handleMessage(msg);
});

function handleMessage(msg: MasterMessage): void {
  if (msg.type === 'ping') send({ type: 'pong', seq: msg.seq });
  else if (msg.type === 'shutdown') drain('shutdown requested');
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
    res.once('close', () => inflight.delete(res));
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
  srv.on('error', (err) => {
    console.error(`[worker ${label}] cannot listen on ${config.socket}:`, err);
    reportAndExit({ type: 'load-error', message: `cannot listen on ${config.socket}: ${err.message}`, stack: err.stack }, EXIT_LOAD_ERROR);
  });
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
function drain(reason: string): void {
  if (draining) return;
  draining = true;
  setTimeout(() => {
    console.error(`[worker ${label}] drain (${reason}) exceeded ${config.shutdownTimeout} ms: exiting with ${inflight.size} request(s) in flight`);
    process.exit(1);
  }, config.shutdownTimeout).unref();
  const srv = server;
  if (srv === undefined) return; // still loading: the check after loadApp exits
  srv.close(() => process.exit(0));
  for (const res of inflight) {
    // Head not sent yet: node closes the connection after this response by itself.
    if (!res.headersSent) res.setHeader('connection', 'close');
    else res.once('finish', closeUnusedConnections);
  }
  closeUnusedConnections();
}

/** Destroys every connection without a response in progress (after 'finish', the data is flushed). */
function closeUnusedConnections(): void {
  const busy = new Set<unknown>();
  for (const res of inflight) if (res.socket !== null && !res.writableFinished) busy.add(res.socket);
  for (const socket of connections) if (!busy.has(socket)) socket.destroy();
}
