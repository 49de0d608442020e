import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { createApp, validate, type StandardSchemaV1 } from './index.ts';

const Item = z.object({
  name: z.string().min(1),
  price: z.number().positive(),
  tags: z.array(z.string()).optional(),
});
type Item = z.infer<typeof Item>;

function post(body: unknown) {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

test('validate("json") passes the output to the handler', async () => {
  const app = createApp();
  app.post('/items', validate('json', Item), (c) => c.json(c.validated<Item>('json'), 201));
  const res = await app.request('/items', post({ name: 'a', price: 2, extra: true }));
  assert.equal(res.status, 201);
  assert.deepEqual(await res.json(), { name: 'a', price: 2 });
  assert.equal(app.middleware('/items', 'POST')[0].name, 'validate(json)');
});

test('400 naming every failing field path and message', async () => {
  const app = createApp();
  app.post('/items', validate('json', Item), (c) => c.json(c.validated('json')));
  const res = await app.request('/items', post({ name: '', price: -1, tags: ['ok', 3] }));
  assert.equal(res.status, 400);
  const { error } = await res.json();
  assert.equal(error.code, 'VALIDATION_FAILED');
  assert.deepEqual(error.issues.map((i: { path: string }) => i.path), ['name', 'price', 'tags.1']);
  for (const i of error.issues) assert.equal(typeof i.message, 'string');
  assert.match(error.message, /^invalid request body: name: .+; price: .+; tags\.1: .+/);
  assert.equal(typeof error.requestId, 'string');
});

test('query and params targets', async () => {
  const app = createApp();
  const Query = z.object({ page: z.coerce.number().int().min(1), tag: z.array(z.string()).optional() });
  app.get('/list', validate('query', Query), (c) => c.json(c.validated('query')));
  app.get('/u/:id', validate('params', z.object({ id: z.string().regex(/^\d+$/) })), (c) => c.text('ok'));
  assert.deepEqual(await (await app.request('/list?page=2&tag=a&tag=b')).json(), { page: 2, tag: ['a', 'b'] });
  const bad = await (await app.request('/list?page=0')).json();
  assert.equal(bad.error.issues[0].path, 'page');
  assert.match(bad.error.message, /^invalid query string/);
  assert.equal((await app.request('/u/12')).status, 200);
  assert.equal((await app.request('/u/x')).status, 400);
});

test('c.valid() with a typed result, and any Standard Schema (async, PathSegment keys)', async () => {
  const custom: StandardSchemaV1<unknown, { n: number }> = {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: async (v) =>
        typeof v === 'object' && v !== null && typeof (v as { n?: unknown }).n === 'number'
          ? { value: v as { n: number } }
          : { issues: [{ message: 'n must be a number', path: [{ key: 'n' }] }] },
    },
  };
  const app = createApp();
  app.post('/n', async (c) => {
    const { n } = await c.valid(custom, await c.bodyJson(), 'body');
    return c.json({ double: n * 2 });
  });
  assert.deepEqual(await (await app.request('/n', post({ n: 4 }))).json(), { double: 8 });
  const bad = await (await app.request('/n', post({ n: 'x' }))).json();
  assert.deepEqual(bad.error.issues, [{ path: 'n', message: 'n must be a number' }]);
});

test('c.validated() without its middleware is a programming error (500)', async (t) => {
  t.mock.method(console, 'error', () => {});
  const app = createApp();
  app.get('/', (c) => c.json(c.validated('json')));
  assert.equal((await app.request('/')).status, 500);
});
