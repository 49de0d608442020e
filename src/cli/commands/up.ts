// `portico up`: start the stack, the admin API, and own the process tree's lifecycle.
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { Stack } from '../../stack.ts';
import { loadWithEnv } from '../load.ts';
import { startAdminServer, adminAddress } from '../../admin/admin-server.ts';
import { createLogger } from '../../observability/logger.ts';

export async function up(configFile: string): Promise<number> {
  const log = createLogger();
  const config = await loadWithEnv(configFile);
  mkdirSync(config.runtimeDir, { recursive: true });
  const accessLog = process.env.PORTICO_ACCESS_LOG === 'off' ? undefined : (line: string) => process.stdout.write(line);
  const stack = new Stack(config, { log, accessLog });
  let admin: Server | null = null;

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log('warn', `${signal} again: exiting now`);
      process.exit(130);
    }
    stopping = true;
    log('info', `${signal}: stopping gracefully`, { timeoutMs: stack.config.shutdownTimeout });
    admin?.close();
    await stack.stop();
    log('info', 'stopped');
    process.exit(0);
  };

  const reload = async () => {
    const next = await loadWithEnv(configFile);
    await stack.reload(next);
    return { routes: next.routes.length };
  };

  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    reload().catch((err: Error) => log('error', 'reload refused', { err: err.message }));
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
  });
  log('info', `admin API on ${adminAddress(admin)}`);
  log('info', 'ready', { pid: process.pid });
  return new Promise<number>(() => {}); // runs until a signal
}
