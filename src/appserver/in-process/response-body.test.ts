// An in-process app's Response as a PorticoResponse: small in-memory bodies whole, the rest streamed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { toPorticoResponse } from './response-body.ts';

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
