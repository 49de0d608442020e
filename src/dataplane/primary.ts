// `portico up` with `processes` > 1 (nginx's worker_processes): this process runs the Stack as a
// single-process `up` does (app workers, admin API, its own listeners), with every listener bound
// with SO_REUSEPORT, and supervises N-1 replicas that serve the same ports (replica-entry.ts).
// Per-process state (memory caches, health and ejection, per-IP connection counts) is listed in
// docs/lifecycle.md.
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { once } from 'node:events';
import { Stack } from '../stack.ts';
import type { ResolvedConfig } from '../config/resolved.ts';
import type { AppServer } from '../appserver/index.ts';
import { loadWithEnv } from '../cli/load.ts';
import { handleSignals } from '../cli/signals.ts';
import { startAdminServer, adminAddress } from '../admin/admin-server.ts';
import type { Log } from '../observability/logger.ts';
import { withReusePort } from './listeners.ts';
import { ReplicaHandle } from './replica-handle.ts';
import { dataPlaneStatus } from './admin-status.ts';

/**
 * How long a reload or purge waits for each replica: a stuck one (a blocked event loop) must not
 * hang the operator's command. A reload may import in-process apps, so its bound is generous; a
 * replica past it is reported as not having answered (it may still apply the reload later).
 */
export const RELOAD_ASK_TIMEOUT_MS = 60_000;
export const PURGE_ASK_TIMEOUT_MS = 5_000;

export async function runPrimary(configFile: string, config: ResolvedConfig, log: Log): Promise<number> {
  await startPrimary(configFile, config, log);
  return new Promise<number>(() => {}); // runs until a signal
}

/**
 * Starts the primary and its replicas; resolves once every process serves. SIGTERM/SIGINT (stop
 * all, exit 0), SIGHUP (reload) and SIGUSR1 (reopen logs) are handled from here on.
 */
export async function startPrimary(configFile: string, config: ResolvedConfig, log: Log): Promise<void> {
  mkdirSync(config.runtimeDir, { recursive: true });
  const replicas: ReplicaHandle[] = [];
  let replicasStopped: Promise<unknown> = Promise.resolve();
  const stack = new Stack(withReusePort(config), {
    log, accessLog: process.env.PORTICO_ACCESS_LOG !== 'off',
    // Worker-mode apps outlive the replicas' drain: requests queued there still reach the workers.
    beforeAppsStop: () => replicasStopped,
  });
  let admin: Server | null = null;

  const sockets = () => Object.fromEntries([...stack.workerApps()].map(([name, app]) => [name, app.sockets()]));
  // Each app server's 'change' (a worker ready, dead, rolled) goes to every replica's pool for it.
  const followed = new WeakSet<AppServer>();
  const follow = () => {
    for (const [name, app] of stack.workerApps()) {
      if (followed.has(app)) continue;
      followed.add(app);
      app.on('change', (list: string[]) => { for (const r of replicas) r.send({ type: 'sockets', app: name, sockets: list }); });
    }
  };
  const broadcastSockets = (before: readonly string[]) => {
    const now = sockets();
    // Apps removed by a reload: the replicas' pools for them empty out.
    for (const app of new Set([...before, ...Object.keys(now)])) {
      for (const r of replicas) r.send({ type: 'sockets', app, sockets: now[app] ?? [] });
    }
  };

  const reload = async () => {
    const next = await loadWithEnv(configFile);
    if (next.processes !== config.processes) log('warn', `processes changes need a restart; keeping ${config.processes}`);
    const before = Object.keys(sockets());
    // The primary first: a config or app it refuses is refused for all, and no replica changes.
    await stack.reload(withReusePort(next));
    follow();
    broadcastSockets(before);
    const processes = await Promise.all(replicas.map(async (r) => ({ pid: r.status().pid, slot: r.slot, error: (await r.ask({ type: 'reload' }, RELOAD_ASK_TIMEOUT_MS)).error })));
    for (const p of processes) {
      if (p.error !== null) log('error', 'data-plane replica kept its previous config', { slot: p.slot, pid: p.pid, err: p.error });
    }
    return { routes: next.routes.length, processes };
  };

  handleSignals({
    log,
    timeoutMs: config.shutdownTimeout,
    stop: async () => {
      admin?.close();
      // Every process stops accepting at once and drains in parallel.
      replicasStopped = Promise.all(replicas.map((r) => r.stop(stack.config.shutdownTimeout)));
      await stack.stop();
    },
    reload,
    reopenLogs: () => {
      stack.reopenLogs();
      for (const r of replicas) r.signal('SIGUSR1');
    },
  });

  try {
    await stack.start();
    follow();
    const ports = stack.addresses().map((a) => a.port);
    for (let slot = 1; slot < config.processes; slot++) {
      replicas.push(new ReplicaHandle(slot, { configFile, log, init: () => ({ type: 'init', ports, sockets: sockets() }) }));
    }
    // A replica that cannot start the first time stops the start, as an app that fails to import does.
    await Promise.all(replicas.map(async (r) => {
      r.start();
      const [event] = await Promise.race([once(r, 'ready').then(() => ['ready']), once(r, 'exit').then(() => ['exit'])]);
      if (event === 'exit') throw new Error(`data-plane replica ${r.slot} exited during start (its log is above)`);
    }));
  } catch (err) {
    replicasStopped = Promise.all(replicas.map((r) => r.stop(1000)));
    await stack.stop(1000).catch(() => {});
    throw err;
  }

  admin = await startAdminServer(config.admin, {
    // Pools, caches and WebSocket counts are per process: summed over every serving process.
    status: () => dataPlaneStatus(stack, replicas),
    routes: () => stack.routes(),
    reload,
    // Pools and memory caches are per process: a drain or purge reaches every one.
    setDraining: (pool, server, draining) => {
      for (const r of replicas) r.send({ type: 'drain', pool, server, draining });
      return stack.setDraining(pool, server, draining);
    },
    purgeCache: async (what) => {
      // A replica not serving (starting, restarting) is a fresh process: nothing of it to purge.
      const serving = replicas.filter((r) => r.status().state === 'ready');
      const [own, others] = await Promise.all([
        stack.purgeCache(what),
        Promise.all(serving.map(async (r) => ({ slot: r.slot, ...(await r.ask({ type: 'purge', what }, PURGE_ASK_TIMEOUT_MS)) }))),
      ]);
      const failed = others.find((a) => a.error !== null);
      if (failed !== undefined) throw new Error(`data-plane replica ${failed.slot}: ${failed.error}`);
      return others.reduce((n, a) => n + (a.value ?? 0), own);
    },
  });
  log('info', `admin API on ${adminAddress(admin)}`);
  log('info', 'ready', { pid: process.pid, processes: config.processes });
}
