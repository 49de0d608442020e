// The per-request context's cheap parts on the data plane: abort watchers without an
// AbortController, and the Server-Timing value.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext, formatServerTiming } from './context.ts';

const newCtx = () => new RequestContext('127.0.0.1', false, '127.0.0.1', 1, 'http', 'example.test');

describe('abort watchers (AbortWatch)', () => {
  test('a watcher hears the client leave once; a removed one and a late one never do', () => {
    const ctx = newCtx();
    const heard: string[] = [];
    const a = { handleEvent: (e: Event) => heard.push(`a:${e.type}`) };
    const b = { handleEvent: () => heard.push('b') };
    ctx.addEventListener('abort', a);
    ctx.addEventListener('abort', b);
    ctx.removeEventListener('abort', b);
    assert.equal(ctx.aborted, false);
    ctx.abort();
    ctx.abort();
    assert.deepEqual(heard, ['a:abort']);
    assert.equal(ctx.aborted, true);
    ctx.addEventListener('abort', b); // after the fact: callers check `aborted` first
    assert.deepEqual(heard, ['a:abort']);
  });

  test('the AbortSignal is still there for those who need one, aborted with the context, before or after', () => {
    const early = newCtx();
    const signal = early.signal;
    early.abort();
    assert.equal(signal.aborted, true);
    const late = newCtx();
    late.abort();
    assert.equal(late.signal.aborted, true);
  });
});

describe('formatServerTiming', () => {
  test('durations with one decimal, untimed entries bare, in journey order', () => {
    const timings = [{ name: 'edge', dur: 0.26 }, { name: 'route', dur: -1 }, { name: 'proxy', dur: 12.04 }, { name: 'app;dur=1.5', dur: -1 }, { name: 'x', dur: 0 }];
    assert.equal(formatServerTiming(timings), 'edge;dur=0.3, route, proxy;dur=12.0, app;dur=1.5, x;dur=0.0');
  });

  test('agrees with toFixed(1) away from exact binary ties; values no duration has keep toFixed', () => {
    for (const dur of [0.04, 0.06, 0.96, 9.99, 123.456, 99999.94, 4321.05001]) {
      assert.equal(formatServerTiming([{ name: 't', dur }]), `t;dur=${dur.toFixed(1)}`);
    }
    for (const dur of [1e20, Infinity, NaN]) assert.equal(formatServerTiming([{ name: 't', dur }]), `t;dur=${dur.toFixed(1)}`);
  });
});
