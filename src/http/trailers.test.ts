import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { forwardableTrailers, trailerSection } from './trailers.ts';

describe('forwardableTrailers (RFC 9110 §6.5.1)', () => {
  it('keeps end-to-end fields, lowercased, repeated ones joined', () => {
    assert.deepEqual(forwardableTrailers({ 'X-Checksum': 'abc', 'grpc-status': '0', 'x-multi': ['1', '2'], 'Server-Timing': 'db;dur=1' }),
      { 'x-checksum': 'abc', 'grpc-status': '0', 'x-multi': '1, 2', 'server-timing': 'db;dur=1' });
  });

  const forbidden = ['content-length', 'Transfer-Encoding', 'host', 'connection', 'keep-alive', 'te', 'trailer', 'upgrade', 'content-type',
    'content-encoding', 'content-range', 'authorization', 'www-authenticate', 'proxy-authenticate', 'set-cookie', 'cache-control', 'expires',
    'age', 'date', 'location', 'retry-after', 'vary', 'etag', 'strict-transport-security', 'x-request-id'];
  for (const name of forbidden) {
    it(`drops ${name}`, () => assert.equal(forwardableTrailers({ [name]: 'v', 'x-ok': '1' })?.[name.toLowerCase()], undefined));
  }

  it('drops a field whose name or value could split the message, keeps the rest', () => {
    assert.deepEqual(forwardableTrailers({ 'x-a': 'ok', 'x-b': 'bad\r\nInjected: 1', 'x c': 'v', 'x-d': 'nul\0' }), { 'x-a': 'ok' });
  });

  it('null when nothing remains or nothing was given', () => {
    assert.equal(forwardableTrailers(null), null);
    assert.equal(forwardableTrailers({}), null);
    assert.equal(forwardableTrailers({ 'content-length': '1' }), null);
  });

  it('serialises a trailer section as field lines (RFC 9112 §7.1.2)', () => {
    assert.equal(trailerSection({ 'x-a': '1', 'x-b': '2' }), 'x-a: 1\r\nx-b: 2\r\n');
    assert.equal(trailerSection(null), '');
  });
});
