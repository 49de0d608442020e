// Static files' prepared heads are checked once per file (PorticoResponse.checkedFields): the edge's
// writer sends those fields unchecked, and still refuses a bad one or anything a layer changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestContext } from '../http/context.ts';
import type { PorticoRequest, PorticoResponse } from '../http/types.ts';
import { planResponse } from '../edge/h1/response-head.ts';
import { staticHandler, type StaticOptions } from './serve-static.ts';

const root = mkdtempSync(join(tmpdir(), 'portico-checked-'));
writeFileSync(join(root, 'a.txt'), 'hello\n');

const get = (path: string): PorticoRequest => ({ method: 'GET', target: path, path, query: '', headers: { host: 'example.test' }, body: null, httpVersion: '1.1' });
const ctx = () => new RequestContext('127.0.0.1', false, '127.0.0.1', 1, 'http', 'example.test');

async function serve(options: Partial<StaticOptions>): Promise<PorticoResponse> {
  const handler = staticHandler({ root, index: 'index.html', stripPrefix: false, ...options });
  await handler(get('/a.txt'), ctx()); // prepares the path
  return handler(get('/a.txt'), ctx()); // the hot path
}

test('the prepared fields travel as checked, and the head goes out with them', async () => {
  const res = await serve({ cacheControl: 'public, max-age=60' });
  assert.deepEqual(res.checkedFields?.filter((_, i) => i % 2 === 0), ['content-type', 'accept-ranges', 'cache-control', 'etag', 'last-modified', 'content-length']);
  const plan = planResponse(res, 'GET', '1.1', true);
  assert.ok(plan !== null);
  assert.match(plan.head, /\r\ncache-control: public, max-age=60\r\n/);
  assert.match(plan.head, /\r\ncontent-length: 6\r\n/);
});

test('a bad configured value is not vouched for: the writer refuses the head (502), as before', async () => {
  // The config schema refuses this (oneLine); the handler is given it directly.
  const res = await serve({ cacheControl: 'public\r\nx-injected: yes' });
  assert.deepEqual(res.checkedFields, ['content-type', res.headers['content-type'], 'accept-ranges', 'bytes']);
  assert.equal(planResponse(res, 'GET', '1.1', true), null);
});

test('a field a later layer changes in place is checked again', async () => {
  const res = await serve({});
  res.headers['etag'] = '"x"\r\nx-injected: yes';
  assert.equal(planResponse(res, 'GET', '1.1', true), null);
});
