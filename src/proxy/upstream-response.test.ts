import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import type { Dispatcher } from 'undici';
import { UpstreamResponse } from './upstream-response.ts';
import type { PorticoResponse } from '../http/types.ts';

/** The parts of undici's ResponseData the response reads: a body that fills `trailers` as it ends. */
function fake(trailers: Record<string, string | string[]>): { data: Dispatcher.ResponseData; body: Readable } {
  const data = { statusCode: 200, headers: {}, trailers: {} as Record<string, string | string[]>, body: null as unknown as Readable };
  const body = new Readable({ read() {} });
  data.body = body;
  // undici fills ResponseData.trailers right before it pushes the end of the body.
  body.push('abc');
  queueMicrotask(() => {
    Object.assign(data.trailers, trailers);
    body.push(null);
  });
  return { data: data as unknown as Dispatcher.ResponseData, body };
}

describe('UpstreamResponse trailers', () => {
  it('asked before the end: settles with them (repeated ones joined) once the body has ended', async () => {
    const { data, body } = fake({ 'x-sum': '1', 'x-multi': ['a', 'b'] });
    const res = new UpstreamResponse(data, {});
    const trailers = res.trailers;
    body.resume();
    assert.deepEqual(await trailers, { 'x-sum': '1', 'x-multi': 'a, b' });
    assert.equal(res.trailers, trailers, 'one promise per response');
  });

  it('asked after the end: settles at once with them', async () => {
    const { data, body } = fake({ 'x-sum': '1' });
    body.resume();
    await once(body, 'end');
    assert.deepEqual(await new UpstreamResponse(data, {}).trailers, { 'x-sum': '1' });
  });

  it('a body destroyed before its end: null (they would describe content nobody got)', async () => {
    const { data, body } = fake({ 'x-sum': '1' });
    const res = new UpstreamResponse(data, {});
    const trailers = res.trailers;
    body.destroy();
    assert.equal(await trailers, null);
    assert.equal(await new UpstreamResponse(data, {}).trailers, null);
  });

  it('a layer can drop them, and a spread copy carries none', async () => {
    const { data, body } = fake({ 'x-sum': '1' });
    const res = new UpstreamResponse(data, {});
    const copy: PorticoResponse = { ...res };
    assert.equal(copy.trailers, undefined);
    res.trailers = undefined;
    assert.equal(res.trailers, undefined);
    body.resume();
  });
});
