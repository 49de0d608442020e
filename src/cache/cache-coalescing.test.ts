// Request coalescing: concurrent misses for one key make one upstream request, and its body
// streams to every waiter as it arrives; uncacheable answers and slow leaders release the waiters.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { Clock, context, makeCache, ok, origin, readBody, request, streamBody } from './test-helpers.ts';
import type { PorticoResponse } from '../http/types.ts';

describe('request coalescing', () => {
  it('100 concurrent misses make exactly 1 upstream request, streamed to all before it ends', async () => {
    const clock = new Clock();
    const body = streamBody();
    const o = origin(() => ({ status: 200, headers: { 'cache-control': 'max-age=60' }, body }));
    const cache = makeCache(clock);
    const h = cache.wrap(o.handler);
    const responses = await Promise.all(Array.from({ length: 100 }, () => h(request('/hot'), context())));
    assert.equal(o.calls.length, 1);
    body.write('first ');
    // Every client has the first chunk while the upstream body is still open: nothing waits for the whole.
    await Promise.all(responses.map(async (r) => {
      const [chunk] = await once(r.body as Readable, 'data') as [Buffer];
      assert.equal(chunk.toString(), 'first ');
    }));
    body.end('second');
    const texts = await Promise.all(responses.map((r) => readBody(r.body)));
    for (const t of texts) assert.equal(t, 'second');
    const statuses = responses.map((r) => String(r.headers['cache-status']));
    assert.equal(statuses.filter((s) => s.endsWith('collapsed')).length, 99);
    assert.equal(cache.counters.coalesced, 99);
    // Stored once the body ended: the next request is a hit.
    const again = await h(request('/hot'), context());
    assert.equal(await readBody(again.body), 'first second');
    assert.equal(o.calls.length, 1);
  });

  it('a response that turns out uncacheable releases the waiters to go upstream themselves', async () => {
    const clock = new Clock();
    const o = origin((req, n) => ok(`private ${n}`, { 'cache-control': 'private' }));
    const h = makeCache(clock).wrap(o.handler);
    const texts = await Promise.all(Array.from({ length: 10 }, async () => readBody((await h(request('/me'), context())).body)));
    assert.equal(o.calls.length, 10);
    assert.equal(new Set(texts).size, 10, 'each client got its own response');
  });

  it('a waiter whose Vary values differ from the leader\'s goes upstream itself', async () => {
    const clock = new Clock();
    const o = origin((req) => ok(`lang ${req.headers['accept-language']}`, { 'cache-control': 'max-age=60', vary: 'accept-language' }));
    const h = makeCache(clock).wrap(o.handler);
    const [en, fr] = await Promise.all(['en', 'fr'].map(async (l) => readBody((await h(request('/v', { 'accept-language': l }), context())).body)));
    assert.deepEqual([en, fr], ['lang en', 'lang fr']);
    assert.equal(o.calls.length, 2);
  });

  it('a waiter gives up on a leader slower than coalesceTimeout and goes upstream itself', async () => {
    const clock = new Clock();
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const o = origin(async (req, n) => {
      if (n === 1) await gate;
      return ok(`r${n}`, { 'cache-control': 'max-age=60' });
    });
    const h = makeCache(clock, { coalesceTimeout: 50 }).wrap(o.handler);
    const leader = h(request('/slow'), context());
    const waiter = await h(request('/slow'), context());
    assert.equal(await readBody(waiter.body), 'r2');
    release();
    assert.equal(await readBody((await leader).body), 'r1');
  });

  it('the leading client leaving does not cut the body its waiters read', async () => {
    const clock = new Clock();
    const body = streamBody();
    const o = origin(() => ({ status: 200, headers: { 'cache-control': 'max-age=60' }, body }));
    const h = makeCache(clock).wrap(o.handler);
    const [leader, waiter] = await Promise.all([h(request('/l'), context()), h(request('/l'), context())]);
    (leader.body as Readable).destroy();
    body.write('a');
    body.end('b');
    assert.equal(await readBody(waiter.body), 'ab');
    const hit = await h(request('/l'), context());
    assert.equal(await readBody(hit.body), 'ab');
    assert.equal(o.calls.length, 1);
  });

  it('maxObjectBytes: a bigger body streams through whole but is not stored', async () => {
    const clock = new Clock();
    const o = origin(() => {
      const body = streamBody();
      setImmediate(() => { for (let i = 0; i < 10; i++) body.write('x'.repeat(100)); body.end(); });
      return { status: 200, headers: { 'cache-control': 'max-age=60' }, body };
    });
    const h = makeCache(clock, { maxObjectBytes: 500 }).wrap(o.handler);
    const first: PorticoResponse = await h(request('/big'), context());
    assert.equal((await readBody(first.body)).length, 1000);
    const second = await h(request('/big'), context());
    assert.equal((await readBody(second.body)).length, 1000);
    assert.equal(o.calls.length, 2);
  });

  it('an upstream body that fails midway is not stored, and the waiters see the failure', async () => {
    const clock = new Clock();
    const bodies: ReturnType<typeof streamBody>[] = [];
    const o = origin(() => {
      const body = streamBody();
      bodies.push(body);
      return { status: 200, headers: { 'cache-control': 'max-age=60' }, body };
    });
    const h = makeCache(clock).wrap(o.handler);
    const [a, b] = await Promise.all([h(request('/f'), context()), h(request('/f'), context())]);
    const failures = Promise.all([assert.rejects(readBody(a.body), /upstream reset/), assert.rejects(readBody(b.body), /upstream reset/)]);
    bodies[0].write('part');
    bodies[0].destroy(new Error('upstream reset'));
    await failures;
    const next = h(request('/f'), context());
    await new Promise((r) => setImmediate(r));
    bodies[1].end('whole');
    assert.equal(await readBody((await next).body), 'whole');
    assert.equal(o.calls.length, 2);
  });
});
