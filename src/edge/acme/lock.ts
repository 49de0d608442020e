// The ordering lock: instances sharing one ACME store must not all order the same certificate
// (CAs rate-limit duplicate orders: Let's Encrypt allows 5 per week for the same names). Whoever
// holds the lock orders; the others wait and then read the stored result. A lock is a lease: its
// holder refreshes it while it works (a third of the TTL apart), a holder that crashed stops
// refreshing and its lock goes stale after the TTL, and only the holder's token can release or
// refresh it, so an instance that lost its lease cannot free or extend a successor's lock.
//
// Taking over a stale lock is where a naive lock double-acquires: two instances both see the stale
// file, one deletes it and creates its own, the other then deletes that one. Here Redis expires the
// key itself (SET NX PX is one atomic step), and the file lock replaces a stale file only under a
// take-over claim named after the stale holder's token (fileLock below), so one instance wins it.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { createClient } from 'redis';

export interface AcmeLock {
  /** true when this instance now holds the lock (and keeps it fresh until release); false when another one does. */
  acquire(): Promise<boolean>;
  release(): Promise<void>;
  close(): Promise<void>;
}

/** Longer than an order takes (seconds with a real CA) and short enough to recover from a crash. */
export const LOCK_TTL_MS = 10 * 60_000;

/**
 * How long a take-over claim stands before another instance may claim again. A take-over is a
 * read, a write and a rename (milliseconds); a claim older than this belongs to an instance that
 * crashed mid take-over. The one assumption, as for any lease: no instance stalls this long
 * between claiming and renaming.
 */
export const TAKEOVER_TTL_MS = 30_000;

/** Claims tried per stale token before giving up (each needs the previous one stale). */
const MAX_CLAIMS = 8;

interface Held {
  readonly token: string;
  readonly mtimeMs: number;
}

async function readHeld(path: string): Promise<Held | null> {
  try {
    const [info, token] = await Promise.all([stat(path), readFile(path, 'utf8')]);
    return { token, mtimeMs: info.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** O_EXCL create (open(2): atomic on local file systems and NFSv3+); false when the file exists. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
  return true;
}

export interface FileLockOptions {
  ttlMs?: number;
  takeoverTtlMs?: number;
}

/** Unique per acquisition, so a lease cannot be mistaken for an earlier one of the same instance. */
const newToken = (): string => `${hostname()} ${process.pid} ${randomUUID()}`;

/**
 * A lock file in the shared store: created with O_EXCL, holding the holder's token, its mtime the
 * lease start (refreshed while held). A stale one is replaced by rename(2) over it, which is atomic
 * and never leaves the path empty (so no O_EXCL create can slip in between), under a claim.
 */
export function fileLock(path: string, ttl: number | FileLockOptions = {}): AcmeLock {
  const o = typeof ttl === 'number' ? { ttlMs: ttl } : ttl;
  const ttlMs = o.ttlMs ?? LOCK_TTL_MS;
  const takeoverTtlMs = o.takeoverTtlMs ?? TAKEOVER_TTL_MS;
  /** The token of the lease this instance holds, or null. */
  let current: string | null = null;
  let heartbeat: NodeJS.Timeout | null = null;

  const stale = (held: Held): boolean => Date.now() - held.mtimeMs >= ttlMs;

  /**
   * Claims the right to replace (or remove) the lock file while it holds `owner`: an O_EXCL claim
   * file named after that token, so every instance that saw the same stale lock races for the
   * same name and one wins. A claim left by a crashed instance is passed over once it is older
   * than takeoverTtlMs (the next claim name is tried). Returns the claims to remove afterwards, or
   * null when another instance's claim is live.
   */
  const claim = async (owner: string, mine: string): Promise<string[] | null> => {
    const base = `${path}.takeover-${createHash('sha256').update(owner).digest('hex').slice(0, 16)}`;
    const names: string[] = [];
    for (let k = 0; k < MAX_CLAIMS; k++) {
      const name = `${base}.${k}`;
      names.push(name);
      if (await createExclusive(name, mine)) return names;
      const info = await stat(name).catch(() => null);
      if (info !== null && Date.now() - info.mtimeMs < takeoverTtlMs) return null;
    }
    return null;
  };
  const unclaim = (names: readonly string[]): Promise<unknown> => Promise.all(names.map((n) => unlink(n).catch(() => {})));

  const startHeartbeat = (token: string): void => {
    stopHeartbeat();
    heartbeat = setInterval(() => {
      void readHeld(path).then((held) => {
        // Only our own file: a lease lost (taken over after a stall) is not extended.
        if (held?.token === token) return utimes(path, new Date(), new Date());
      }).catch(() => {});
    }, Math.max(10, Math.floor(ttlMs / 3)));
    heartbeat.unref();
  };
  const stopHeartbeat = (): void => {
    if (heartbeat !== null) clearInterval(heartbeat);
    heartbeat = null;
  };

  const takeOver = async (seen: Held, mine: string): Promise<boolean> => {
    const claims = await claim(seen.token, mine);
    if (claims === null) return false;
    try {
      // Under the claim: is it still the very lock we judged stale? Another instance may have
      // taken it over and released its claim in between (then the token differs), or its holder
      // may have refreshed or released it.
      const again = await readHeld(path);
      if (again === null || again.token !== seen.token || !stale(again)) return false;
      const tmp = `${path}.${randomUUID()}.tmp`;
      await writeFile(tmp, mine, { mode: 0o600 });
      await rename(tmp, path).catch(async (err: unknown) => {
        await unlink(tmp).catch(() => {});
        throw err;
      });
      return true;
    } finally {
      await unclaim(claims);
    }
  };

  return {
    async acquire() {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const mine = newToken();
      let won = await createExclusive(path, mine);
      if (!won) {
        const held = await readHeld(path);
        if (held === null) {
          won = await createExclusive(path, mine); // released in between
        } else if (current !== null && held.token === current) {
          startHeartbeat(current); // still ours (a release that failed)
          return true;
        } else if (stale(held)) {
          won = await takeOver(held, mine);
        }
      }
      if (won) {
        current = mine;
        startHeartbeat(mine);
      }
      return won;
    },
    async release() {
      stopHeartbeat();
      const token = current;
      current = null;
      if (token === null) return;
      // The same claim as a take-over of our own token: a release cannot race an instance that is
      // replacing our (expired) lock, and so never removes that instance's new one.
      const claims = await claim(token, token);
      if (claims === null) return;
      try {
        const held = await readHeld(path);
        if (held?.token === token) await unlink(path);
      } finally {
        await unclaim(claims);
      }
    },
    async close() {
      stopHeartbeat();
    },
  };
}

/** Compare-and-delete: release only our own token (the pattern in Redis's SET documentation). */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
/** Compare-and-extend: refresh the lease only while the key still holds our token. */
const REFRESH = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/**
 * `SET key token NX PX ttl` on a Redis every instance shares. A crashed holder's key expires inside
 * Redis, and the next SET NX is one atomic step: two instances cannot both take a stale lock.
 */
export function redisLock(url: string, key: string, ttlMs = LOCK_TTL_MS): AcmeLock {
  const token = randomUUID();
  const client = createClient({ url, disableOfflineQueue: true });
  client.on('error', () => {}); // each command's failure is reported by the caller
  let connecting: Promise<unknown> | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  const ready = async (): Promise<void> => {
    if (client.isReady) return;
    connecting ??= client.connect().finally(() => { connecting = null; });
    await connecting;
  };
  const stopHeartbeat = (): void => {
    if (heartbeat !== null) clearInterval(heartbeat);
    heartbeat = null;
  };
  return {
    async acquire() {
      await ready();
      const won = (await client.set(key, token, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } })) === 'OK';
      if (won) {
        heartbeat ??= setInterval(() => {
          client.eval(REFRESH, { keys: [key], arguments: [token, String(ttlMs)] }).catch(() => {});
        }, Math.max(10, Math.floor(ttlMs / 3)));
        heartbeat.unref();
      }
      return won;
    },
    async release() {
      stopHeartbeat();
      await ready();
      await client.eval(RELEASE, { keys: [key], arguments: [token] });
    },
    async close() {
      stopHeartbeat();
      if (client.isOpen) await client.close();
    },
  };
}
