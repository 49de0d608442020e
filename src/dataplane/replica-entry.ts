// A data-plane replica: the same Stack as the primary's, from the same config file, on the same
// ports (SO_REUSEPORT), with its in-process apps imported here and worker-mode apps reached
// through the primary's workers' sockets. No admin API, no app workers of its own: the primary
// owns the lifecycle (src/dataplane/primary.ts) and tells this process what to do over IPC.
import { Stack } from '../stack.ts';
import { loadWithEnv } from '../cli/load.ts';
import { createLogger } from '../observability/logger.ts';
import { withReusePort } from './listeners.ts';
import { IpcSocketSource } from './socket-source.ts';
import { CONFIG_ENV, type FromReplica, type ReplicaRequest, type ToReplica } from './messages.ts';

const base = createLogger();
const log: typeof base = (level, msg, fields) => base(level, msg, { replica: process.pid, ...fields });
const configFile = process.env[CONFIG_ENV];
const sockets = new IpcSocketSource();
let stack: Stack | null = null;
let ports: number[] = [];
let stopping: Promise<never> | null = null;

const send = (m: FromReplica) => process.send?.(m);

/** Graceful, once: a second trigger (the primary's disconnect after its 'stop') waits for the first. */
function stop(): Promise<never> {
  stopping ??= (async () => {
    await stack?.stop();
    process.exit(0);
  })();
  return stopping;
}

async function init(m: Extract<ToReplica, { type: 'init' }>): Promise<void> {
  ports = m.ports;
  for (const [app, list] of Object.entries(m.sockets)) sockets.set(app, list);
  const config = withReusePort(await loadWithEnv(configFile!), ports);
  stack = new Stack(config, { log, accessLog: process.env.PORTICO_ACCESS_LOG !== 'off', appSockets: sockets });
  await stack.start();
  send({ type: 'ready' });
}

/** Runs one request from the primary and answers it; a reload that fails leaves the old snapshot serving. */
async function answer(m: ReplicaRequest): Promise<void> {
  try {
    if (stack === null) throw new Error('not started');
    if (m.type === 'status') {
      send({ type: 'answer', id: m.id, error: null, status: stack.status() });
      return;
    }
    let value: number | undefined;
    if (m.type === 'reload') await stack.reload(withReusePort(await loadWithEnv(configFile!), ports));
    else value = await stack.purgeCache(m.what);
    send({ type: 'answer', id: m.id, error: null, value });
  } catch (err) {
    log('error', `${m.type} failed`, { err: (err as Error).message });
    send({ type: 'answer', id: m.id, error: (err as Error).message });
  }
}

process.on('message', (m: ToReplica) => {
  if (m.type === 'init') {
    init(m).catch((err: unknown) => {
      log('error', 'replica failed to start', { err });
      process.exit(1);
    });
  } else if (m.type === 'sockets') sockets.set(m.app, m.sockets);
  else if (m.type === 'reload' || m.type === 'purge' || m.type === 'status') void answer(m);
  else if (m.type === 'drain') stack?.setDraining(m.pool, m.server, m.draining);
  else if (m.type === 'stop') void stop();
});
// The primary gone (crashed, SIGKILL) must not leave this process serving on its own.
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
// A terminal's Ctrl-C or hang-up reaches the whole process group: the primary decides for all.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.on('SIGUSR1', () => stack?.reopenLogs());

if (configFile === undefined || process.send === undefined) {
  process.stderr.write(`replica-entry.ts is started by portico up (processes > 1), with ${CONFIG_ENV} and an IPC channel\n`);
  process.exit(2);
}
send({ type: 'hello' });
