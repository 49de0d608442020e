// Whole lines per write to a shared stdout: pieces never cut a line and stay within PIPE_BUF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipePieces } from './access-log-writer.ts';

test('pipePieces: whole lines, at most 4096 bytes each unless one line is longer, nothing lost or reordered', () => {
  const lines = Array.from({ length: 500 }, (_, i) => `GET /item/${i} ${'é'.repeat(i % 37)} 200\n`);
  lines.splice(250, 0, `GET /${'x'.repeat(5000)} 414\n`);
  const pieces = pipePieces(lines);
  assert.equal(pieces.join(''), lines.join(''));
  for (const p of pieces) {
    assert.ok(p.endsWith('\n'));
    const bytes = Buffer.byteLength(p);
    assert.ok(bytes <= 4096 || p === lines[250], `a piece of ${bytes} bytes`);
  }
  assert.ok(pieces.includes(lines[250]));
  assert.deepEqual(pipePieces([]), []);
});
