// An in-process app's Response as a PorticoResponse: small in-memory bodies whole, the rest streamed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { toPorticoResponse, takeWholeResponse } from './response-body.ts';

const options = { idleTimeout: 1_000, onError: () => {} };

test('an in-memory body is handed on whole, without the app\'s framing fields', async () => {
  const res = new Response('hello world\n', { headers: { 'content-type': 'text/plain', connection: 'close', 'transfer-encoding': 'chunked', 'content-length': '12' } });
  const out = await toPorticoResponse(res, options);
  assert.equal(out.status, 200);
  assert.ok(out.body instanceof Uint8Array);
  assert.equal(Buffer.from(out.body).toString(), 'hello world\n');
  assert.deepEqual(out.headers, { 'content-type': 'text/plain' }, 'the edge frames a complete body itself');
});

test('no body, and Set-Cookie kept as separate fields', async () => {
  const headers = new Headers();
  headers.append('set-cookie', 'a=1');
  headers.append('set-cookie', 'b=2');
  const out = await toPorticoResponse(new Response(null, { status: 204, headers }), options);
  assert.equal(out.body, null);
  assert.deepEqual(out.headers['set-cookie'], ['a=1', 'b=2']);
});

test('a body larger than what is held in one turn is streamed, every byte in order', async () => {
  const chunks = Array.from({ length: 40 }, (_, i) => new Uint8Array(4096).fill(65 + (i % 26)));
  const res = new Response(new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  }));
  const out = await toPorticoResponse(res, options);
  assert.ok(out.body instanceof Readable, 'past 64 KiB: a stream, not a held buffer');
  const got = await text(out.body);
  assert.equal(got, Buffer.concat(chunks).toString());
});

test('an app stream that errors mid-body fails the Readable and is reported', async () => {
  const reported: unknown[] = [];
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const res = new Response(new ReadableStream<Uint8Array>({ start: (c) => void (controller = c, c.enqueue(new Uint8Array([1]))) }));
  const out = await toPorticoResponse(res, { idleTimeout: 1_000, onError: (err) => reported.push(err) });
  assert.ok(out.body instanceof Readable);
  const body = out.body;
  const failed = new Promise<Error>((resolve) => body.once('error', resolve));
  body.resume();
  controller?.error(new Error('database went away'));
  assert.match((await failed).message, /database went away/);
  assert.equal(reported.length, 1);
});

test('a framework response made from a string is taken whole from its source, synchronously', async () => {
  const { createApp } = await import('../../framework/index.ts');
  const app = createApp();
  app.get('/t', (c) => c.text('hello world\n'));
  app.get('/j', (c) => c.json({ a: 1 }, 201, { 'x-a': '1' }));
  app.get('/e', (c) => c.text(''));
  const t = takeWholeResponse(await app.request('/t'));
  assert.ok(t !== null);
  assert.equal(t.status, 200);
  assert.equal(Buffer.from(t.body as Uint8Array).toString(), 'hello world\n');
  assert.equal(t.headers['content-type'], 'text/plain;charset=UTF-8');
  assert.equal(t.headers['content-length'], undefined, 'the edge frames a complete body itself');
  const j = takeWholeResponse(await app.request('/j'));
  assert.ok(j !== null);
  assert.deepEqual([j.status, j.headers['x-a'], Buffer.from(j.body as Uint8Array).toString()], [201, '1', '{"a":1}']);
  assert.equal(takeWholeResponse(await app.request('/e'))?.body, null, 'an empty body is no body');
});

test('a framework response is taken whole only while nobody has read it', async () => {
  const { createApp } = await import('../../framework/index.ts');
  const app = createApp();
  app.get('/t', (c) => c.text('abc'));
  assert.equal(takeWholeResponse(new Response('plain')), null, 'a native Response: read through its stream');
  const read = await app.request('/t');
  assert.equal(await read.text(), 'abc');
  assert.equal(takeWholeResponse(read), null, 'read already');
  const streamed = await app.request('/t');
  streamed.body!.getReader();
  assert.equal(takeWholeResponse(streamed), null, 'its stream was asked for');
  const taken = await app.request('/t');
  assert.ok(takeWholeResponse(taken) !== null);
  assert.equal(taken.bodyUsed, true, 'taking it is reading it');
  assert.equal(takeWholeResponse(taken), null, 'once');
  await assert.rejects(taken.text(), TypeError);
  // Fields a middleware set on the response travel with it; Set-Cookie stays a list.
  const withFields = await app.request('/t');
  withFields.headers.set('x-a', '1');
  withFields.headers.append('set-cookie', 'a=1');
  withFields.headers.append('set-cookie', 'b=2');
  const out = takeWholeResponse(withFields);
  assert.deepEqual(out?.headers, { 'content-type': 'text/plain;charset=UTF-8', 'x-a': '1', 'set-cookie': ['a=1', 'b=2'] });
});
