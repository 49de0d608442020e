// The manager against pebble without a stack: a tiny HTTP server answers HTTP-01 from the shared
// challenge table. Two instances sharing a store order once (file lock, then Redis lock), also when
// a crashed instance left the lock behind; an injected clock past the renewal point makes the
// manager order a new certificate.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { startPebble, type Pebble } from '../../../test/helpers/pebble.ts';
import { startTestDns, type TestDns } from '../../../test/helpers/dns-server.ts';
import { startRedis, type RedisServer } from '../../../test/helpers/redis-server.ts';
import { closedPort, waitFor } from '../../../test/helpers/servers.ts';
import type { ResolvedAcme } from '../../config/resolved.ts';
import { AcmeChallenges } from './challenges.ts';
import { fileLock, redisLock, type AcmeLock } from './lock.ts';
import { AcmeManager } from './manager.ts';

const hasPebble = existsSync('/usr/bin/pebble');
const hasRedis = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].some(existsSync);

describe('fileLock', () => {
  it('is exclusive, releases only its own token, and takes over a stale lock', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'portico-lock-')), 'locks', 'a.lock');
    const a = fileLock(path, 60_000);
    const b = fileLock(path, 60_000);
    assert.equal(await a.acquire(), true);
    assert.equal(await b.acquire(), false);
    await b.release(); // not b's lock: stays
    assert.equal(await b.acquire(), false);
    await a.release();
    assert.equal(await b.acquire(), true);
    // A holder that crashed: the file is older than the TTL.
    const old = (Date.now() - 120_000) / 1000;
    utimesSync(path, old, old);
    assert.equal(await a.acquire(), true);
    await a.release();
  });

  it('leaves a lock file it did not write alone when it is fresh', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'portico-lock-')), 'b.lock');
    writeFileSync(path, 'someone else');
    assert.equal(await fileLock(path, 60_000).acquire(), false);
  });
});

describe('AcmeManager against pebble', { skip: hasPebble ? false : 'pebble is not installed' }, () => {
  let dns: TestDns;
  let pebble: Pebble;
  let redis: RedisServer | null = null;
  let challengeServer: http.Server;
  const challenges = new AcmeChallenges();
  const logs: string[] = [];
  const managers: AcmeManager[] = [];

  before(async () => {
    dns = await startTestDns();
    for (const h of ['a.test', 'b.test', 'c.test', 'd.test', 'e.test']) dns.records.set(h, ['127.0.0.1']);
    challengeServer = http.createServer((req, res) => {
      const answer = challenges.answer(req.url ?? '/');
      res.writeHead(answer?.status ?? 404).end(answer?.body as string | undefined);
    });
    challengeServer.listen(await closedPort(), '127.0.0.1');
    await once(challengeServer, 'listening');
    const httpPort = (challengeServer.address() as { port: number }).port;
    pebble = await startPebble({ httpPort, dnsServer: dns.address });
    if (hasRedis) redis = await startRedis();
  });
  after(async () => {
    for (const m of managers) await m.stop();
    challengeServer?.close();
    await pebble?.stop();
    await redis?.stop();
    await dns?.close();
  });

  function manager(host: string, storage: string, lock: AcmeLock, now?: () => number): { m: AcmeManager; serials: string[]; notAfter: number[] } {
    const acme: ResolvedAcme = { directory: pebble.directory, email: 'ops@example.test', hosts: [host], storage, renewBefore: 30 * 86_400_000, challenge: 'http-01', caCert: pebble.caCert, redis: null };
    const serials: string[] = [];
    const notAfter: number[] = [];
    const m = new AcmeManager({
      acme, hosts: [host], storage, challenges, lock, now, retryMs: 60_000,
      log: (level, msg) => logs.push(`${level} ${msg}`),
      onCertificate: (_p, stored) => {
        serials.push(stored.serial);
        notAfter.push(stored.notAfter);
      },
    });
    managers.push(m);
    return { m, serials, notAfter };
  }

  async function orderOnce(host: string, lockFor: (storage: string) => AcmeLock): Promise<void> {
    const storage = mkdtempSync(join(tmpdir(), 'portico-acme-'));
    const one = manager(host, storage, lockFor(storage));
    const two = manager(host, storage, lockFor(storage));
    const results = await Promise.all([one.m.check(), two.m.check()]);
    assert.deepEqual(results.toSorted(), ['issued', 'locked'], logs.join('\n'));
    assert.equal(one.m.orders + two.m.orders, 1);
    // The instance that waited picks up the stored certificate on its next check, without ordering.
    const waited = results[0] === 'locked' ? one : two;
    assert.equal(await waited.m.check(), 'valid');
    assert.equal(one.m.orders + two.m.orders, 1);
    assert.deepEqual(one.serials, two.serials);
    assert.equal(one.serials.length, 1);
  }

  it('two instances sharing a store order once (file lock)', async () => {
    await orderOnce('a.test', (storage) => fileLock(join(storage, 'locks', 'a.lock')));
  });

  it('two instances sharing a store order once (Redis lock)', { skip: hasRedis ? false : 'redis-server is not installed' }, async () => {
    await orderOnce('b.test', () => redisLock(redis!.url, 'portico:acme:lock:b.test'));
  });

  /**
   * An instance crashed holding the lock (`crash` leaves it behind); two instances then check over
   * and over until the lock is free: never both ordering, and exactly one order in all.
   */
  async function orderOnceAfterCrash(host: string, lockFor: (storage: string) => AcmeLock, crash: (storage: string) => Promise<void>): Promise<void> {
    const storage = mkdtempSync(join(tmpdir(), 'portico-acme-'));
    await crash(storage);
    const one = manager(host, storage, lockFor(storage));
    const two = manager(host, storage, lockFor(storage));
    const seen: string[] = [];
    await waitFor(async () => {
      const results = await Promise.all([one.m.check(), two.m.check()]);
      seen.push(results.toSorted().join('+'));
      return results.includes('issued') ? results : null;
    }, 'the stale lock taken and a certificate issued', 20_000);
    assert.equal(one.m.orders + two.m.orders, 1, seen.join(' '));
    assert.ok(seen.every((r) => r === 'locked+locked' || r === 'issued+locked'), seen.join(' '));
    assert.deepEqual([await one.m.check(), await two.m.check()], ['valid', 'valid']);
    assert.equal(one.m.orders + two.m.orders, 1);
  }

  it('two instances and a stale lock file left by a crashed one: one takes it over, one order', async () => {
    await orderOnceAfterCrash('d.test', (storage) => fileLock(join(storage, 'locks', 'd.lock')), async (storage) => {
      mkdirSync(join(storage, 'locks'), { recursive: true });
      writeFileSync(join(storage, 'locks', 'd.lock'), 'host 4242 crashed-holder');
      const old = (Date.now() - 11 * 60_000) / 1000; // past the 10-minute TTL
      utimesSync(join(storage, 'locks', 'd.lock'), old, old);
    });
  });

  it('two instances and a Redis lock left by a crashed one: one takes it once it expires, one order', { skip: hasRedis ? false : 'redis-server is not installed' }, async () => {
    await orderOnceAfterCrash('e.test', () => redisLock(redis!.url, 'portico:acme:lock:e.test'), async () => {
      const crashed = redisLock(redis!.url, 'portico:acme:lock:e.test', 500);
      assert.equal(await crashed.acquire(), true);
      await crashed.close(); // neither released nor refreshed again: the key expires in Redis
    });
  });

  it('renews once the clock passes notAfter − renewBefore, and not before', async () => {
    const storage = mkdtempSync(join(tmpdir(), 'portico-acme-'));
    let offset = 0;
    const { m, serials, notAfter } = manager('c.test', storage, fileLock(join(storage, 'c.lock')), () => Date.now() + offset);
    assert.equal(await m.check(), 'issued');
    const renewAt = notAfter[0] - 30 * 86_400_000;
    // A minute before the renewal point: still valid, no order.
    offset = renewAt - 60_000 - Date.now();
    assert.equal(await m.check(), 'valid');
    assert.equal(m.orders, 1);
    // A minute past it: a new certificate.
    offset = renewAt + 60_000 - Date.now();
    assert.equal(await m.check(), 'issued');
    assert.equal(m.orders, 2);
    assert.equal(serials.length, 2);
    assert.notEqual(serials[0], serials[1]);
  });
});
