// The process-tree lifecycle shared by `portico up` and `portico serve`: SIGTERM/SIGINT stop
// gracefully (a second one exits at once), SIGHUP reloads, SIGUSR1 reopens log files.
import type { Log } from '../observability/logger.ts';

export interface SignalHandlers {
  log: Log;
  /** Graceful stop; the process exits 0 once it resolves. */
  stop(): Promise<void>;
  /** Shown in the stopping log line. */
  timeoutMs: number;
  reload(): Promise<unknown>;
  reopenLogs?(): void;
}

export function handleSignals(h: SignalHandlers): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      h.log('warn', `${signal} again: exiting now`);
      process.exit(130);
    }
    stopping = true;
    h.log('info', `${signal}: stopping gracefully`, { timeoutMs: h.timeoutMs });
    await h.stop();
    h.log('info', 'stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  if (h.reopenLogs !== undefined) process.on('SIGUSR1', () => h.reopenLogs!());
  process.on('SIGHUP', () => {
    h.log('info', 'SIGHUP: reloading');
    // A refused reload keeps the old config and workers serving; the reason is logged.
    h.reload().catch((err: Error) => h.log('error', 'reload refused', { err: err.message }));
  });
}
