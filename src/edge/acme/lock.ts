// The ordering lock: instances sharing one ACME store must not all order the same certificate
// (CAs rate-limit duplicate orders: Let's Encrypt allows 5 per week for the same names). Whoever
// holds the lock orders; the others wait and then read the stored result. Both locks expire on
// their own (a holder that crashed must not block renewal forever) and release only their own
// token, so a holder that outlived its lease cannot free a successor's lock.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createClient } from 'redis';

export interface AcmeLock {
  /** true when this instance now holds the lock; false when another one does. */
  acquire(): Promise<boolean>;
  release(): Promise<void>;
  close(): Promise<void>;
}

/** Longer than an order takes (seconds with a real CA) and short enough to recover from a crash. */
export const LOCK_TTL_MS = 10 * 60_000;

/** An O_EXCL lock file: atomic on local file systems and on NFSv3+ (open(2), O_EXCL). */
export function fileLock(path: string, ttlMs = LOCK_TTL_MS): AcmeLock {
  const token = `${process.pid} ${randomUUID()}`;
  const tryCreate = async (): Promise<boolean> => {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(token);
      await fh.close();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  };
  return {
    async acquire() {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      if (await tryCreate()) return true;
      // A stale lock (its holder crashed mid-order): remove it and race for it once more.
      const info = await stat(path).catch(() => null);
      if (info !== null && Date.now() - info.mtimeMs < ttlMs) return false;
      await unlink(path).catch(() => {});
      return tryCreate();
    },
    async release() {
      const held = await readFile(path, 'utf8').catch(() => null);
      if (held === token) await unlink(path).catch(() => {});
    },
    async close() {},
  };
}

/** Compare-and-delete: release only our own token (the pattern in Redis's SET documentation). */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** `SET key token NX PX ttl` on a Redis every instance shares. */
export function redisLock(url: string, key: string, ttlMs = LOCK_TTL_MS): AcmeLock {
  const token = randomUUID();
  const client = createClient({ url, disableOfflineQueue: true });
  client.on('error', () => {}); // each command's failure is reported by the caller
  let connecting: Promise<unknown> | null = null;
  const ready = async (): Promise<void> => {
    if (client.isReady) return;
    connecting ??= client.connect().finally(() => { connecting = null; });
    await connecting;
  };
  return {
    async acquire() {
      await ready();
      return (await client.set(key, token, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } })) === 'OK';
    },
    async release() {
      await ready();
      await client.eval(RELEASE, { keys: [key], arguments: [token] });
    },
    async close() {
      if (client.isOpen) await client.close();
    },
  };
}
