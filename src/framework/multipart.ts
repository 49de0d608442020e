// multipart/form-data (RFC 7578), streamed through busboy: the body is fed to the parser chunk by
// chunk as it arrives, never buffered whole, and every limit is checked while streaming, so an
// oversized upload is refused (and its read cancelled) once it passes a limit, not after it landed.
// Files are BUFFERED in memory, each up to `fileSize` bytes (default 10 MiB): simple to use and
// bounded (at most files × fileSize, and never more than totalSize); for uploads too big for memory
// read `c.req.body` with your own busboy and send each file's stream where it belongs.
import busboy from 'busboy';
import { BadRequestError, PayloadTooLargeError } from '../http/errors.ts';

export interface MultipartLimits {
  /** Bytes per file. Default 10 MiB. */
  fileSize?: number;
  /** Bytes of the whole body, files included. Default 50 MiB. */
  totalSize?: number;
  /** Files. Default 10. */
  files?: number;
  /** Non-file fields. Default 100. */
  fields?: number;
  /** Bytes per field value. Default 64 KiB. */
  fieldSize?: number;
}

export interface MultipartFile {
  /** The form field it came in. */
  readonly field: string;
  /** As the client named it; untrusted: never use it as a path. */
  readonly filename: string;
  /** As the client declared it; untrusted. */
  readonly type: string;
  readonly size: number;
  readonly bytes: Uint8Array;
}

export interface MultipartBody {
  /** Repeated names become arrays, as in `validate('form')`. */
  readonly fields: Record<string, string | string[]>;
  readonly files: MultipartFile[];
}

export const MULTIPART_TOTAL_DEFAULT = 50 * 1024 * 1024;

const DEFAULTS: Required<MultipartLimits> = {
  fileSize: 10 * 1024 * 1024,
  totalSize: MULTIPART_TOTAL_DEFAULT,
  files: 10,
  fields: 100,
  fieldSize: 64 * 1024,
};

/** `source` is the request body, or the bytes already read by an earlier parser. */
export async function parseMultipart(
  contentType: string,
  source: ReadableStream<Uint8Array> | Uint8Array | null,
  limits: MultipartLimits = {},
): Promise<MultipartBody> {
  const l = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS) as (keyof MultipartLimits)[]) {
    const v = limits[k];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 0) throw new TypeError(`multipart limit ${k} must be a non-negative integer`);
    l[k] = v;
  }
  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: { 'content-type': contentType },
      defParamCharset: 'utf8',
      // busboy reports the first part past a count limit (filesLimit, fieldsLimit): refused below.
      // busboy trips a size limit on reaching it; one more byte lets exactly-the-limit through.
      limits: { fileSize: l.fileSize + 1, files: l.files, fields: l.fields, fieldSize: l.fieldSize + 1, fieldNameSize: 200, headerPairs: 20 },
    });
  } catch (err) {
    throw new BadRequestError(`invalid multipart body: ${(err as Error).message}`, 'INVALID_MULTIPART');
  }

  const fields: Record<string, string | string[]> = Object.create(null);
  const files: MultipartFile[] = [];
  let failure: Error | null = null;
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  const aborted = new AbortController();
  let fail!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    fail = (err) => {
      if (failure !== null) return;
      failure = err;
      aborted.abort();
      reader?.cancel().catch(() => {}); // stops the upload at the source
      reject(err);
    };
    bb.on('close', () => resolve());
  });
  done.catch(() => {}); // observed below; this keeps an early failure from being "unhandled"

  const tooLarge = (what: string) => fail(new PayloadTooLargeError(`multipart body too large: ${what}`));
  bb.on('field', (name, value, info) => {
    if (info.nameTruncated) return fail(new BadRequestError('invalid multipart body: a field name is over 200 bytes', 'INVALID_MULTIPART'));
    if (info.valueTruncated) return tooLarge(`field "${name}" is over ${l.fieldSize} bytes`);
    const prev = fields[name];
    fields[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  });
  bb.on('file', (name, stream, info) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
    });
    // Destroying the parser after a failure ends open file streams with an error: already reported.
    stream.on('error', () => {});
    stream.on('limit', () => tooLarge(`file "${info.filename ?? name}" is over ${l.fileSize} bytes`));
    stream.on('end', () => {
      if (stream.truncated) return;
      const bytes = Buffer.concat(chunks, size);
      files.push({ field: name, filename: info.filename ?? '', type: info.mimeType, size, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, size) });
    });
  });
  bb.on('filesLimit', () => tooLarge(`more than ${l.files} files`));
  bb.on('fieldsLimit', () => tooLarge(`more than ${l.fields} fields`));
  bb.on('error', (err: unknown) => fail(new BadRequestError(`invalid multipart body: ${(err as Error).message}`, 'INVALID_MULTIPART')));

  try {
    await feed(bb, source, l.totalSize, aborted.signal, (r) => (reader = r), tooLarge);
  } catch (err) {
    fail(err instanceof Error ? err : new Error(String(err)));
  }
  if (failure === null) bb.end();
  try {
    await done;
  } finally {
    if (failure !== null) bb.destroy();
  }
  return { fields, files };
}

/** Writes the body into busboy with backpressure, counting bytes against the total limit. */
async function feed(
  bb: busboy.Busboy,
  source: ReadableStream<Uint8Array> | Uint8Array | null,
  totalSize: number,
  failed: AbortSignal,
  onReader: (r: ReadableStreamDefaultReader<Uint8Array>) => void,
  tooLarge: (what: string) => void,
): Promise<void> {
  if (source === null) return;
  if (source instanceof Uint8Array) {
    if (source.byteLength > totalSize) return tooLarge(`over ${totalSize} bytes`);
    bb.write(source);
    return;
  }
  const reader = source.getReader();
  onReader(reader);
  let total = 0;
  while (!failed.aborted) {
    const { done, value } = await reader.read();
    if (done) return;
    total += value.byteLength;
    if (total > totalSize) return tooLarge(`over ${totalSize} bytes`);
    if (!bb.write(value) && !failed.aborted) {
      // Wait for the parser to drain, or for a failure (after which it may never drain).
      await new Promise<void>((resolve) => {
        const go = () => {
          bb.off('drain', go);
          bb.off('close', go);
          failed.removeEventListener('abort', go);
          resolve();
        };
        bb.on('drain', go);
        bb.on('close', go);
        failed.addEventListener('abort', go);
      });
    }
  }
}
