// 206 responses (RFC 9110 §15.3.7): one range as a plain body, several as multipart/byteranges.
import { createReadStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { PorticoResponse } from '../http/types.ts';
import type { FileInfo } from './file-cache.ts';
import type { ByteRange } from './ranges.ts';

type FileEntry = FileInfo & { kind: 'file' };

export function rangeResponse(head: boolean, headers: Record<string, string>, info: FileEntry, ranges: ByteRange[]): PorticoResponse {
  if (ranges.length === 1) {
    const { start, end } = ranges[0];
    headers['content-range'] = `bytes ${start}-${end}/${info.size}`;
    headers['content-length'] = String(end - start + 1);
    if (head) return { status: 206, headers, body: null };
    return { status: 206, headers, body: info.data !== null ? info.data.subarray(start, end + 1) : createReadStream(info.real, { start, end }) };
  }
  const boundary = randomBytes(12).toString('hex');
  const type = headers['content-type'];
  const parts = ranges.map((r) => ({
    r,
    head: Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${r.start}-${r.end}/${info.size}\r\n\r\n`),
  }));
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const length = parts.reduce((n, p) => n + p.head.length + (p.r.end - p.r.start + 1), tail.length);
  headers['content-type'] = `multipart/byteranges; boundary=${boundary}`;
  headers['content-length'] = String(length);
  if (head) return { status: 206, headers, body: null };
  async function* body(): AsyncGenerator<Buffer> {
    for (const p of parts) {
      yield p.head;
      if (info.data !== null) yield info.data.subarray(p.r.start, p.r.end + 1);
      else for await (const chunk of createReadStream(info.real, { start: p.r.start, end: p.r.end })) yield chunk as Buffer;
    }
    yield tail;
  }
  return { status: 206, headers, body: Readable.from(body(), { objectMode: false }) };
}
