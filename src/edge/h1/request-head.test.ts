// The strict request-head parser: every refusal with its status (RFC 9112 §2–§7), and what it
// accepts split into the layer contract's fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpError } from '../../http/errors.ts';
import { ChunkedDecoder, HeadFault, isFieldName, serializeFields } from './http1-syntax.ts';
import { RequestHeadParser, headLimits } from './request-head.ts';
import { DEFAULT_LIMITS } from '../limits.ts';

function parse(text: string, parser = new RequestHeadParser()): RequestHeadParser {
  const end = parser.parse(Buffer.from(text, 'latin1'));
  assert.notEqual(end, -1, 'head complete');
  return parser;
}

function status(text: string, parser = new RequestHeadParser()): number {
  try {
    parser.parse(Buffer.from(text, 'latin1'));
  } catch (err) {
    assert.ok(err instanceof HttpError, String(err));
    return err.status;
  }
  return 0;
}

const H = 'Host: a\r\n';
const refusals: [string, string, number][] = [
  ['bare LF in the request line', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 400],
  ['bare LF in a field line', `GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n`, 400],
  ['obs-fold', `GET / HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n`, 400],
  ['whitespace before the first field', `GET / HTTP/1.1\r\n ${H}\r\n`, 400],
  ['space before colon', `GET / HTTP/1.1\r\n${H}X-A : 1\r\n\r\n`, 400],
  ['invalid token character in a name', `GET / HTTP/1.1\r\n${H}X(a): 1\r\n\r\n`, 400],
  ['empty field name', `GET / HTTP/1.1\r\n${H}: 1\r\n\r\n`, 400],
  ['NUL in a value', `GET / HTTP/1.1\r\n${H}X: a\x00b\r\n\r\n`, 400],
  ['bare CR in a value', `GET / HTTP/1.1\r\n${H}X: a\rb\r\n\r\n`, 400],
  ['DEL in a value', `GET / HTTP/1.1\r\n${H}X: a\x7fb\r\n\r\n`, 400],
  ['duplicate identical Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 1\r\n\r\n`, 400],
  ['conflicting Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 2\r\n\r\n`, 400],
  ['Content-Length list', `POST / HTTP/1.1\r\n${H}Content-Length: 1, 1\r\n\r\n`, 400],
  ['signed Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: +1\r\n\r\n`, 400],
  ['Transfer-Encoding with Content-Length', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n`, 400],
  ['chunked not final', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, 400],
  ['chunked twice', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n`, 400],
  ['unknown coding only', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`, 400],
  ['a coding before chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n`, 501],
  ['Transfer-Encoding in HTTP/1.0', `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n`, 400],
  ['missing Host in HTTP/1.1', 'GET / HTTP/1.1\r\nX: 1\r\n\r\n', 400],
  ['duplicate Host', `GET / HTTP/1.1\r\n${H}${H}\r\n`, 400],
  ['invalid Host', 'GET / HTTP/1.1\r\nHost: a b/c\r\n\r\n', 400],
  ['HTTP/2.0', `GET / HTTP/2.0\r\n${H}\r\n`, 505],
  ['HTTP/1.2', `GET / HTTP/1.2\r\n${H}\r\n`, 505],
  ['garbage version', `GET / HTTX/1.1\r\n${H}\r\n`, 400],
  ['two spaces in the request line', `GET  / HTTP/1.1\r\n${H}\r\n`, 400],
  ['a fragment in the target', `GET /a#b HTTP/1.1\r\n${H}\r\n`, 400],
  ['raw non-ASCII in the target', `GET /\xe9 HTTP/1.1\r\n${H}\r\n`, 400],
  ['invalid method characters', `G(T / HTTP/1.1\r\n${H}\r\n`, 400],
  ['an unknown method', `BREW / HTTP/1.1\r\n${H}\r\n`, 501],
  ['a lowercase method', `get / HTTP/1.1\r\n${H}\r\n`, 501],
  ['authority-form', `CONNECT a:443 HTTP/1.1\r\n${H}\r\n`, 400],
  ['userinfo in absolute-form', `GET http://u@a/ HTTP/1.1\r\n${H}\r\n`, 400],
  ['__proto__ field', `GET / HTTP/1.1\r\n${H}__proto__: x\r\n\r\n`, 400],
  ['an expectation other than 100-continue', `GET / HTTP/1.1\r\n${H}Expect: magic\r\n\r\n`, 417],
];

for (const [name, text, expected] of refusals) {
  test(`refuses ${name} with ${expected}`, () => assert.equal(status(text), expected));
}

test('limits: an oversized head is 431, a long request line 414, too many fields 431', () => {
  const limits = headLimits({ ...DEFAULT_LIMITS, maxHeaderSize: 2048, maxUrlLength: 256, maxHeaderCount: 3 });
  assert.equal(status(`GET / HTTP/1.1\r\n${H}X: ${'a'.repeat(3000)}\r\n\r\n`, new RequestHeadParser(limits)), 431);
  // Incomplete but already too long: refused without waiting for the end of the head.
  assert.equal(status(`GET / HTTP/1.1\r\n${H}X: ${'a'.repeat(3000)}`, new RequestHeadParser(limits)), 431);
  assert.equal(status(`GET /${'a'.repeat(400)} HTTP/1.1\r\n${H}\r\n`, new RequestHeadParser(limits)), 414);
  assert.equal(status(`GET /${'a'.repeat(400)}`, new RequestHeadParser(limits)), 414);
  assert.equal(status(`GET / HTTP/1.1\r\n${H}A: 1\r\nB: 1\r\nC: 1\r\n\r\n`, new RequestHeadParser(limits)), 431);
});

test('an incomplete head asks for more bytes', () => {
  assert.equal(new RequestHeadParser().parse(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n')), -1);
  assert.equal(new RequestHeadParser().parse(Buffer.from('GET / HT')), -1);
});

test('accepted heads: fields joined, framing decided, keep-alive per version', () => {
  const p = parse(`POST /a/b?x=1 HTTP/1.1\r\n${H}Accept: a\r\naccept: b\r\nCookie: c=1\r\nCookie: d=2\r\nContent-Length: 12\r\nX-Empty:\r\n\r\n`);
  assert.equal(p.method, 'POST');
  assert.equal(p.path, '/a/b');
  assert.equal(p.query, 'x=1');
  assert.equal(p.headers.accept, 'a, b');
  assert.equal(p.headers.cookie, 'c=1; d=2');
  assert.equal(p.headers['x-empty'], '');
  assert.equal(p.bodyKind, 'length');
  assert.equal(p.contentLength, 12);
  assert.equal(p.keepAlive, true);
  const chunked = parse(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: Chunked\r\nConnection: Close\r\nExpect: 100-continue\r\n\r\n`);
  assert.equal(chunked.bodyKind, 'chunked');
  assert.equal(chunked.keepAlive, false);
  assert.equal(chunked.expectContinue, true);
  assert.equal(parse('POST / HTTP/1.0\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n').expectContinue, false, 'ignored in HTTP/1.0 (RFC 9110 §10.1.1)');
  const old = parse('GET / HTTP/1.0\r\n\r\n');
  assert.equal(old.keepAlive, false);
  assert.equal(parse('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').keepAlive, true);
  const absolute = parse('GET http://b.test:81 HTTP/1.1\r\nHost: other\r\n\r\n');
  assert.equal(absolute.target, '/');
  assert.equal(absolute.headers.host, 'b.test:81', 'the absolute-form authority wins over Host (RFC 9112 §3.2.2)');
});

function decode(text: string): string {
  const d = new ChunkedDecoder();
  const parts: Buffer[] = [];
  const buf = Buffer.from(text, 'latin1');
  // One byte at a time: the decoder must resume anywhere.
  for (let i = 0; i < buf.length && !d.done; i++) d.feed(buf, i, i + 1, { data: (c) => parts.push(Buffer.from(c)) });
  assert.ok(d.done, 'complete');
  return Buffer.concat(parts).toString('latin1');
}

test('chunked decoding: extensions and trailers dropped; bad framing and overflow refused', () => {
  assert.equal(decode('5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nX-T: 1\r\n\r\n'), 'hello!');
  for (const bad of ['5\r\nhelloX\r\n0\r\n\r\n', 'g\r\n', '5\nhello', '1000000000000\r\n', '\r\n', '5\r\nhello\r\n0\r\nX T\r\n\r\n', '0\r\n\rX']) {
    assert.throws(() => decode(bad), HeadFault, JSON.stringify(bad));
  }
});

test('serializeFields: common names take the Set, every name and value is still checked', () => {
  assert.equal(serializeFields({ 'content-type': 'text/plain', 'x-custom_1': 'a', 'set-cookie': ['a=1', 'b=2'], 'content-length': '9' }),
    'content-type: text/plain\r\nx-custom_1: a\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n');
  for (const name of ['content-type', 'server', 'x-request-id', 'accept']) assert.equal(isFieldName(name), true, name);
  for (const bad of ['', 'bad name', 'x:y', 'x\r\ny', 'ü']) {
    assert.equal(isFieldName(bad), false, JSON.stringify(bad));
    assert.equal(serializeFields({ [bad]: 'v' }), null, JSON.stringify(bad));
  }
  for (const value of ['a\r\nx-injected: 1', 'a\nb', 'a\0b', 'a\x7fb']) {
    assert.equal(serializeFields({ 'content-type': value }), null, JSON.stringify(value));
    assert.equal(serializeFields({ 'set-cookie': ['ok=1', value] }), null, JSON.stringify(value));
  }
});
