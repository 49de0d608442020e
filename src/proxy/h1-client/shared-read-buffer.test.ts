// Every upstream connection reads into one shared buffer (connection.ts, net `onread`): whatever a
// connection keeps past a read (a partial head, body bytes, chunked framing, trailers) must be a
// copy, or the next read on another connection overwrites it. These tests interleave the reads of
// two connections at each of those points and check every byte that arrives.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { waitFor } from '../../../test/helpers/servers.ts';
import { get, ok, text, upstreamKit } from '../../../test/helpers/raw-upstream.ts';

const kit = upstreamKit();
after(() => kit.close());

/** Sends `parts` one at a time, each after the other connection's next full read was parsed. */
async function interleave(a: net.Socket, aParts: string[], b: net.Socket, bParts: string[]): Promise<void> {
  const rounds = Math.max(aParts.length, bParts.length);
  for (let i = 0; i < rounds; i++) {
    for (const [s, parts] of [[a, aParts], [b, bParts]] as const) {
      if (i >= parts.length) continue;
      await new Promise<void>((resolve) => s.write(parts[i], 'latin1', () => resolve()));
      // Let the client read (and so reuse the shared buffer) before the next write anywhere.
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
  }
}

async function twoHeld() {
  const held: net.Socket[] = [];
  const up = await kit.rawUpstream((s) => { held.push(s); });
  const p = kit.pool(up.port, { connections: 2 });
  const first = get(p, '/a');
  const second = get(p, '/b');
  await waitFor(() => held.length === 2, 'both requests upstream');
  return { a: held[0], b: held[1], first, second };
}

test('a partial head is kept intact while another connection reads', async () => {
  const { a, b, first, second } = await twoHeld();
  const aBody = 'A'.repeat(3000);
  const bBody = 'B'.repeat(5000);
  await interleave(a, ['HTTP/1.1 200 OK\r\ncontent-le', `ngth: ${aBody.length}\r\nx-a: 1\r\n\r\n${aBody}`],
    b, [ok(bBody)]);
  const [ra, rb] = await Promise.all([first, second]);
  assert.equal(ra.headers['x-a'], '1');
  assert.equal(await text(ra), aBody);
  assert.equal(await text(rb), bBody);
});

test('streamed Content-Length and chunked bodies keep their bytes while the other connection reads', async () => {
  const { a, b, first, second } = await twoHeld();
  const a1 = 'a'.repeat(2000), a2 = 'c'.repeat(2000), a3 = 'e'.repeat(4000);
  const b1 = 'b'.repeat(1500), b2 = 'd'.repeat(1500);
  await interleave(
    a, [`HTTP/1.1 200 OK\r\ncontent-length: ${a1.length + a2.length + a3.length}\r\n\r\n${a1}`, a2, a3],
    b, [`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-sum\r\n\r\n${b1.length.toString(16)}\r\n${b1}\r\n${b2.length.toString(16)}\r\n`, `${b2}\r\n0\r\nx-s`, 'um: 42\r\n\r\n'],
  );
  const [ra, rb] = await Promise.all([first, second]);
  // Read only now, after every read of both connections went through the shared buffer.
  assert.equal(await text(ra), a1 + a2 + a3);
  assert.equal(await text(rb), b1 + b2);
  assert.deepEqual(await rb.trailers, { 'x-sum': '42' });
});

test('a whole body answered from one read is a copy, not a view of the read buffer', async () => {
  const { a, b, first, second } = await twoHeld();
  await interleave(a, [ok('first body')], b, [ok('the other one, longer than the first')]);
  const [ra, rb] = await Promise.all([first, second]);
  assert.equal(await text(ra), 'first body');
  assert.equal(await text(rb), 'the other one, longer than the first');
});
