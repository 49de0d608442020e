import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp, type App } from './index.ts';
import type { MultipartLimits } from './multipart.ts';

const B = 'XyZboundary';
const CT = `multipart/form-data; boundary=${B}`;

function part(name: string, value: string, file?: { filename: string; type: string }): string {
  const disp = file === undefined ? `form-data; name="${name}"` : `form-data; name="${name}"; filename="${file.filename}"`;
  return `--${B}\r\nContent-Disposition: ${disp}\r\n${file ? `Content-Type: ${file.type}\r\n` : ''}\r\n${value}\r\n`;
}
const end = `--${B}--\r\n`;

function upload(limits?: MultipartLimits): App {
  const app = createApp();
  app.post('/upload', async (c) => {
    const { fields, files } = await c.bodyMultipart(limits);
    return c.json({
      fields,
      files: files.map((f) => ({ field: f.field, filename: f.filename, type: f.type, size: f.size, text: new TextDecoder().decode(f.bytes) })),
    });
  });
  return app;
}

async function send(app: App, body: BodyInit, contentType = CT, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await app.request('/upload', { method: 'POST', headers: { 'content-type': contentType, ...headers }, body, duplex: 'half' } as RequestInit);
  return { status: res.status, body: await res.json() };
}

test('multipart: fields (repeated ones as arrays) and buffered files', async () => {
  const form = new FormData();
  form.append('title', 'Été');
  form.append('tag', 'a');
  form.append('tag', 'b');
  form.append('doc', new Blob(['hello file'], { type: 'text/plain' }), 'notes é.txt');
  form.append('empty', new Blob([]), 'empty.bin');
  const res = await upload().request('/upload', { method: 'POST', body: form });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    fields: { title: 'Été', tag: ['a', 'b'] },
    files: [
      { field: 'doc', filename: 'notes é.txt', type: 'text/plain', size: 10, text: 'hello file' },
      { field: 'empty', filename: 'empty.bin', type: 'application/octet-stream', size: 0, text: '' },
    ],
  });
});

test('multipart: 415 for another type, 400 for a missing boundary or a truncated body', async () => {
  const app = upload();
  const json = await send(app, '{}', 'application/json');
  assert.equal(json.status, 415);
  const noBoundary = await send(app, part('a', '1') + end, 'multipart/form-data');
  assert.equal(noBoundary.status, 400);
  assert.equal(noBoundary.body.error.code, 'INVALID_MULTIPART');
  assert.match(noBoundary.body.error.message, /boundary/i);
  const truncated = await send(app, `--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nhalf a val`);
  assert.equal(truncated.status, 400);
  assert.match(truncated.body.error.message, /invalid multipart body: .*end/i);
  const badHeader = await send(app, `--${B}\r\nno colon here\r\n\r\nx\r\n${end}`);
  assert.equal(badHeader.status, 400);
});

test('multipart: 413 for a file, field, file count, field count or total over its limit', async () => {
  const app = upload({ fileSize: 10, files: 1, fields: 2, fieldSize: 5, totalSize: 1000 });
  const total = upload({ fileSize: 5000, totalSize: 1000 });
  const ok = await send(app, part('f', '0123456789', { filename: 'a.txt', type: 'text/plain' }) + part('a', '12345') + end);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const cases: [string, string, RegExp][] = [
    ['file', part('f', '01234567890', { filename: 'a.txt', type: 'text/plain' }) + end, /file "a\.txt" is over 10 bytes/],
    ['field', part('a', '123456') + end, /field "a" is over 5 bytes/],
    ['files', part('f', '1', { filename: 'a', type: 'x/y' }) + part('g', '2', { filename: 'b', type: 'x/y' }) + end, /more than 1 files/],
    ['fields', part('a', '1') + part('b', '2') + part('c', '3') + end, /more than 2 fields/],
    ['total', part('a', '1') + part('f', 'x'.repeat(1001), { filename: 'p', type: 'x/y' }) + end, /over 1000 bytes/],
  ];
  for (const [what, body, message] of cases) {
    const r = await send(what === 'total' ? total : app, body);
    assert.equal(r.status, 413, what);
    assert.match(r.body.error.message, message, what);
  }
  // Declared too large: refused before a byte is read.
  const declared = await send(app, 'x', CT, { 'content-length': '5000' });
  assert.equal(declared.status, 413);
});

test('multipart: an oversized upload is cancelled at the source, not read to the end', async () => {
  const app = upload({ fileSize: 64 * 1024, totalSize: 10 * 1024 * 1024 });
  let pulled = 0;
  let cancelled = false;
  const head = new TextEncoder().encode(`--${B}\r\nContent-Disposition: form-data; name="f"; filename="big"\r\n\r\n`);
  const chunk = new Uint8Array(16 * 1024).fill(120);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(head);
    },
    pull(controller) {
      pulled += chunk.byteLength;
      controller.enqueue(chunk); // 100 MiB if nobody stopped it
      if (pulled > 100 * 1024 * 1024) controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  const r = await send(app, body);
  assert.equal(r.status, 413);
  assert.ok(cancelled, 'the body stream was cancelled');
  assert.ok(pulled < 1024 * 1024, `read ${pulled} bytes of an upload refused at 64 KiB`);
});

test('multipart: bytes already read by another parser are parsed from memory', async () => {
  const app = createApp();
  app.post('/upload', async (c) => {
    await c.bodyBytes();
    const { fields } = await c.bodyMultipart();
    return c.json(fields);
  });
  const res = await app.request('/upload', { method: 'POST', headers: { 'content-type': CT }, body: part('a', '1') + end });
  assert.deepEqual(await res.json(), { a: '1' });
});
