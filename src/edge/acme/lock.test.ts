// The ordering lock under contention: many instances racing for a lock left by a crashed holder
// (exactly one wins, every round), a holder whose lease ran out cannot free its successor's lock,
// a crashed take-over does not block forever, and a live holder keeps its lease past the TTL.
// File lock on a real directory; Redis lock against a real redis-server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { startRedis, type RedisServer } from '../../../test/helpers/redis-server.ts';
import { waitFor } from '../../../test/helpers/servers.ts';
import { fileLock, redisLock, type AcmeLock } from './lock.ts';

const hasRedis = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].some(existsSync);
const CONTENDERS = 8;
const ROUNDS = 25;

/** Backdates a file's mtime: how a lock looks once its holder crashed `ageMs` ago. */
function age(path: string, ageMs: number): void {
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(path, t, t);
}

/**
 * How many of `locks` acquire, each starting after a different number of event-loop turns: the
 * contenders then reach each step of a take-over at different moments, which is when a naive
 * stale-lock take-over lets one instance delete another's fresh lock.
 */
async function winners(locks: AcmeLock[]): Promise<number> {
  const turns = (n: number): Promise<void> => (n <= 0 ? Promise.resolve() : new Promise((r) => setImmediate(r)).then(() => turns(n - 1)));
  return (await Promise.all(locks.map((l, i) => turns((i * 7) % 11).then(() => l.acquire())))).filter(Boolean).length;
}

describe('fileLock', () => {
  const dir = (): string => join(mkdtempSync(join(tmpdir(), 'portico-lock-')), 'locks');

  it(`${CONTENDERS} instances racing for a stale lock: exactly one takes it, in each of ${ROUNDS} rounds`, async () => {
    const path = join(dir(), 'race.lock');
    for (let round = 0; round < ROUNDS; round++) {
      const locks = Array.from({ length: CONTENDERS }, () => fileLock(path, 60_000));
      if (round === 0) {
        const first = fileLock(path, 60_000);
        await first.acquire();
        await first.close();
      }
      age(path, 120_000); // its holder (the previous round's winner) crashed holding it
      assert.equal(await winners(locks), 1, `round ${round}`);
      await Promise.all(locks.map((l) => l.close()));
    }
    // Claims do not pile up: only the lock itself is left.
    assert.deepEqual(readdirSync(join(path, '..')), ['race.lock']);
  });

  it(`${CONTENDERS} instances racing for a free lock: exactly one takes it`, async () => {
    const path = join(dir(), 'free.lock');
    const locks = Array.from({ length: CONTENDERS }, () => fileLock(path, 60_000));
    assert.equal(await winners(locks), 1);
    await Promise.all(locks.map((l) => l.release()));
    assert.equal(existsSync(path), false, 'released by its holder; the others\' releases are no-ops');
  });

  it('a holder whose lease ran out and was taken over cannot release its successor\'s lock', async () => {
    const path = join(dir(), 'a.lock');
    const a = fileLock(path, 60_000);
    const b = fileLock(path, 60_000);
    const c = fileLock(path, 60_000);
    assert.equal(await a.acquire(), true);
    await a.close(); // stalled: no more refreshes
    age(path, 120_000);
    assert.equal(await b.acquire(), true);
    const successor = readFileSync(path, 'utf8');
    await a.release();
    assert.equal(readFileSync(path, 'utf8'), successor);
    assert.equal(await c.acquire(), false);
    await b.release();
    assert.equal(await c.acquire(), true);
    await c.release();
  });

  it('a take-over claim left by an instance that crashed mid take-over blocks only until it is stale', async () => {
    const path = join(dir(), 'claim.lock');
    const crashed = fileLock(path, 60_000);
    await crashed.acquire();
    await crashed.close();
    age(path, 120_000);
    // The claim is named after the stale holder's token: what any taker of this lock must create.
    const claim = `${path}.takeover-${createHash('sha256').update(readFileSync(path, 'utf8')).digest('hex').slice(0, 16)}.0`;
    writeFileSync(claim, 'an instance mid take-over');
    const taker = fileLock(path, { ttlMs: 60_000, takeoverTtlMs: 30_000 });
    assert.equal(await taker.acquire(), false, 'a fresh claim stands: its instance is replacing the lock');
    age(claim, 60_000);
    assert.equal(await taker.acquire(), true, 'a stale claim is passed over');
    assert.deepEqual(readdirSync(join(path, '..')), ['claim.lock'], 'and removed by the winner');
    await taker.release();
  });

  it('a live holder refreshes its lease, so it is never stale to the others', async () => {
    const path = join(dir(), 'live.lock');
    const a = fileLock(path, 300);
    const b = fileLock(path, 300);
    assert.equal(await a.acquire(), true);
    const start = Date.now();
    // Three TTLs: without the refresh b would have taken it after the first.
    await waitFor(async () => {
      assert.equal(await b.acquire(), false);
      return Date.now() - start > 900;
    }, 'three TTLs of contention');
    await a.release();
    assert.equal(await b.acquire(), true);
    await b.release();
  });
});

describe('redisLock', { skip: hasRedis ? false : 'redis-server is not installed' }, () => {
  let redis: RedisServer;
  const open: AcmeLock[] = [];
  const lock = (key: string, ttlMs?: number): AcmeLock => {
    const l = redisLock(redis.url, key, ttlMs);
    open.push(l);
    return l;
  };
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await Promise.all(open.map((l) => l.close()));
    await redis?.stop();
  });

  it(`${CONTENDERS} instances racing for a lock whose holder crashed: exactly one takes it once it expires`, async () => {
    for (let round = 0; round < 5; round++) {
      const key = `portico:acme:lock:race-${round}`;
      const crashed = lock(key, 200);
      assert.equal(await crashed.acquire(), true);
      await crashed.close(); // no release, no refresh: the key expires in Redis
      const locks = Array.from({ length: CONTENDERS }, () => lock(key, 60_000));
      const won = await waitFor(async () => {
        const n = await winners(locks);
        assert.ok(n <= 1, `round ${round}: ${n} winners`);
        return n === 1 ? n : null;
      }, 'the expired lock taken');
      assert.equal(won, 1);
    }
  });

  it('a holder whose lease expired cannot release or extend its successor\'s lock', async () => {
    const key = 'portico:acme:lock:successor';
    const a = lock(key, 200);
    assert.equal(await a.acquire(), true);
    // a's lease ends while a still runs (a stall longer than the TTL): the key goes, b takes it.
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      await client.del(key);
      const b = lock(key, 60_000);
      assert.equal(await b.acquire(), true);
      const successor = await client.get(key);
      await a.release();
      assert.equal(await client.get(key), successor, 'compare-and-delete left b\'s token');
      assert.equal(await lock(key).acquire(), false);
      await b.release();
      assert.equal(await client.exists(key), 0);
    } finally {
      await client.close();
    }
  });

  it('a live holder refreshes its lease past the TTL', async () => {
    const key = 'portico:acme:lock:live';
    const a = lock(key, 300);
    const b = lock(key, 300);
    assert.equal(await a.acquire(), true);
    const start = Date.now();
    await waitFor(async () => {
      assert.equal(await b.acquire(), false);
      return Date.now() - start > 900;
    }, 'three TTLs of contention');
    await a.release();
    assert.equal(await b.acquire(), true);
  });
});
