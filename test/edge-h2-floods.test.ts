// HTTP/2 floods over raw TLS frames: SETTINGS floods and CONTINUATION floods (CVE-2024-27983) end
// the offending connection in bounded time while another client is served promptly.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type TestStack } from './helpers/stack.ts';
import { ensureDevCa, issueDevCertificate } from '../src/edge/dev-ca.ts';

let s: TestStack;
let port: number;
let ca: Buffer;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-h2flood-'));
  ca = readFileSync((await ensureDevCa(dir)).cert);
  const pair = await issueDevCertificate(dir, ['localhost'], 'site');
  s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, tls: { certs: [{ cert: pair.cert, key: pair.key }] } }], routes: [{ respond: { body: 'ok' } }] }, dir);
  port = s.stack.addresses()[0].port;
});
after(() => s.close());

/** One HTTP/2 frame (RFC 9113 §4.1). */
function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** A raw h2 connection that writes `chunks` as fast as the socket takes them; resolves when the server closes it. */
async function flood(chunks: () => Buffer | null): Promise<{ closedAfter: number }> {
  const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca, ALPNProtocols: ['h2'] });
  socket.on('error', () => {});
  socket.resume(); // read (and drop) what the server sends, so only its own limits stop us
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  assert.equal(socket.alpnProtocol, 'h2');
  const started = Date.now();
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.write(Buffer.concat([PREFACE, frame(4, 0, 0)]));
  const pump = (): void => {
    for (;;) {
      if (socket.destroyed) return;
      const next = chunks();
      if (next === null) return;
      if (!socket.write(next)) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
  const deadline = setTimeout(() => socket.destroy(), 10_000);
  await closed;
  clearTimeout(deadline);
  return { closedAfter: Date.now() - started };
}

async function servedPromptly(): Promise<number> {
  const t0 = Date.now();
  const session = http2.connect(`https://localhost:${port}`, { ca });
  const body = await new Promise<string>((resolve, reject) => {
    let data = '';
    session.request({ ':path': '/' }).setEncoding('utf8').on('data', (c: string) => (data += c)).on('end', () => resolve(data)).on('error', reject);
  });
  session.close();
  assert.equal(body, 'ok');
  return Date.now() - t0;
}

describe('HTTP/2 flood protections', () => {
  it('a SETTINGS flood ends its connection; another client is served meanwhile', async () => {
    let sent = 0;
    const settings = frame(4, 0, 0);
    const batch = Buffer.concat(Array.from({ length: 500 }, () => settings));
    const done = flood(() => (sent++ < 2_000 ? batch : null)); // up to a million SETTINGS frames
    const took = await servedPromptly();
    const { closedAfter } = await done;
    assert.ok(took < 2_000, `served in ${took} ms during the flood`);
    assert.ok(closedAfter < 10_000, `flooding connection closed after ${closedAfter} ms`);
    assert.ok(sent < 2_000, 'the server closed the connection before the client ran out of frames');
  });

  it('an endless CONTINUATION sequence ends its connection; another client is served meanwhile', async () => {
    const literal = Buffer.concat([Buffer.from([0x00, 0x03]), Buffer.from('x-a'), Buffer.from([0x7f, 0xe9, 0x06]), Buffer.alloc(1000, 0x61)]); // x-a: 1000×"a" (HPACK integer 127 + 873)
    let sent = 0;
    const done = flood(() => {
      sent++;
      if (sent === 1) return frame(1, 0x0, 1, Buffer.from([0x82, 0x84, 0x87, 0x41, 0x09, ...Buffer.from('localhost')])); // HEADERS, no END_HEADERS
      return sent < 100_000 ? frame(9, 0x0, 1, literal) : null; // CONTINUATION, never END_HEADERS
    });
    const took = await servedPromptly();
    const { closedAfter } = await done;
    assert.ok(took < 2_000, `served in ${took} ms during the flood`);
    assert.ok(closedAfter < 10_000, `flooding connection closed after ${closedAfter} ms`);
    assert.ok(sent < 100_000, `the server cut the sequence (after ${sent} frames)`);
  });
});
