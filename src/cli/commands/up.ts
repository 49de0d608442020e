// `portico up`: start the stack, the admin API, and own the process tree's lifecycle.
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { Stack } from '../../stack.ts';
import { loadWithEnv } from '../load.ts';
import { startAdminServer, adminAddress } from '../../admin/admin-server.ts';
import { createLogger } from '../../observability/logger.ts';
import { handleSignals } from '../signals.ts';
import { runPrimary } from '../../dataplane/primary.ts';

export async function up(configFile: string): Promise<number> {
  const log = createLogger();
  const config = await loadWithEnv(configFile);
  // Several data-plane processes on the same ports (src/dataplane); one is the plain path below.
  if (config.processes > 1) return runPrimary(configFile, config, log);
  mkdirSync(config.runtimeDir, { recursive: true });
  const stack = new Stack(config, { log, accessLog: process.env.PORTICO_ACCESS_LOG !== 'off' });
  let admin: Server | null = null;

  const reload = async () => {
    const next = await loadWithEnv(configFile);
    await stack.reload(next);
    return { routes: next.routes.length };
  };

  handleSignals({
    log,
    timeoutMs: stack.config.shutdownTimeout,
    stop: async () => {
      admin?.close();
      await stack.stop();
    },
    reload,
    reopenLogs: () => stack.reopenLogs(),
  });

  try {
    await stack.start();
  } catch (err) {
    // Workers already started must not outlive a failed start.
    await stack.stop(1000).catch(() => {});
    throw err;
  }
  admin = await startAdminServer(config.admin, {
    status: () => stack.status(),
    routes: () => stack.routes(),
    reload,
    setDraining: (pool, server, draining) => stack.setDraining(pool, server, draining),
    purgeCache: (what) => stack.purgeCache(what),
  });
  log('info', `admin API on ${adminAddress(admin)}`);
  log('info', 'ready', { pid: process.pid });
  return new Promise<number>(() => {}); // runs until a signal
}
