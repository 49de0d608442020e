// Files from a directory, as nginx's `root` and Caddy's file_server do: GET/HEAD, index file,
// try_files-style fallback (an SPA's index.html), validators and 304s (RFC 9110 §8.8, §13),
// ranges (§14), precompressed .br/.zst/.gz siblings, MIME types, Cache-Control by pattern, no
// directory listing, and no way out of the root. Small hot files are served from memory.
import { createReadStream } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import type { CheckedFields, Handler, PorticoRequest, PorticoResponse } from '../http/types.ts';
import { isFieldName, isFieldValue } from '../edge/h1/http1-syntax.ts';
import { MethodNotAllowedError, NotFoundError } from '../http/errors.ts';
import { negotiateEncoding } from '../http/accept-encoding.ts';
import { resolveUnderRoot } from './safe-path.ts';
import { contentType } from './mime.ts';
import { FileCache, type FileInfo } from './file-cache.ts';
import { cacheControlFor, type CacheControlSetting } from './cache-control.ts';
import { parseRange } from './ranges.ts';
import { rangeResponse } from './range-response.ts';

export interface StaticOptions {
  /** Absolute directory. */
  root: string;
  index: string;
  cacheControl?: CacheControlSetting;
  /** Served when nothing matches, e.g. `/index.html` for a single-page app (try_files $uri /index.html). */
  fallback?: string;
  /** Serve `file.br` / `file.zst` / `file.gz` when present and accepted. */
  precompressed?: boolean;
  followSymlinks?: boolean;
  /** Strip the route prefix before mapping to a file. */
  stripPrefix: boolean;
}

/** Server preference: smallest output first (RFC 9110 §12.5.3 leaves ties to the server). */
const SIBLINGS = [['br', '.br'], ['zstd', '.zst'], ['gzip', '.gz']] as const;

/** One representation of a file: its bytes' facts and the header fields that go with it. */
interface Variant {
  coding: string | null;
  info: FileEntry;
  headers: Readonly<Record<string, string>>;
  /** Content-Length's value. */
  length: string;
  /** `headers` then Content-Length as checked once here, for the edge's writer (PorticoResponse.checkedFields). */
  checked: CheckedFields;
}

/**
 * What a request path resolved to, kept while every file-cache answer it was built from is still
 * fresh (the same objects `FileCache.fresh` returns): a hot file is then served without a path
 * walk, a promise or a header computed again. Measured: 10 KiB from memory at ~38 µs of CPU per
 * request through the slow path against ~24 µs through this one (bench `static`).
 */
interface Prepared {
  deps: { path: string; info: FileInfo }[];
  identity: Variant;
  /** Precompressed siblings present, in server preference order. */
  variants: Variant[];
  codings: string[];
}

type FileEntry = FileInfo & { kind: 'file' };

/** Paths remembered at most; the oldest leave first (SPA fallbacks make one per distinct URL). */
const MAX_PREPARED = 10_000;

export function staticHandler(options: StaticOptions): Handler {
  const { index } = options;
  const cacheControl = cacheControlFor(options.cacheControl);
  const precompressed = options.precompressed ?? true;
  let files: FileCache | null = null;
  let realRoot = '';
  const prepared = new Map<string, Prepared>();

  /** The slow path: walk the path, look files up (stat on a miss), remember what was found. */
  const resolve = async (req: PorticoRequest, path: string, files: FileCache): Promise<Prepared | PorticoResponse> => {
    const deps: { path: string; info: FileInfo }[] = [];
    const look = async (file: string): Promise<FileInfo> => {
      const info = await files.lookup(file);
      deps.push({ path: file, info });
      return info;
    };
    let file = resolveUnderRoot(realRoot, path);
    let info = await look(file);
    if (info.kind === 'directory') {
      if (!req.path.endsWith('/')) {
        // nginx's behaviour: a directory is addressed with its trailing slash.
        return { status: 301, headers: { location: req.path + '/' + (req.query ? '?' + req.query : '') }, body: null };
      }
      file = file + sep + index;
      info = await look(file);
    }
    if (info.kind !== 'file' && options.fallback !== undefined) {
      file = resolveUnderRoot(realRoot, options.fallback);
      info = await look(file);
    }
    if (info.kind !== 'file') throw new NotFoundError(`no file for ${req.path}`, 'NOT_FOUND');
    const relative = file.slice(realRoot.length) || '/';
    const base: Record<string, string> = { 'content-type': contentType(file), 'accept-ranges': 'bytes' };
    const cc = cacheControl(relative);
    if (cc !== undefined) base['cache-control'] = cc;
    const variants: Variant[] = [];
    if (precompressed) {
      for (const [coding, ext] of SIBLINGS) {
        const sibling = await look(file + ext);
        if (sibling.kind === 'file') variants.push(variant(base, coding, sibling, true));
      }
    }
    const entry: Prepared = { deps, identity: variant(base, null, info, variants.length > 0), variants, codings: variants.map((v) => v.coding!) };
    if (prepared.size >= MAX_PREPARED) prepared.delete(prepared.keys().next().value!);
    prepared.set(path, entry);
    return entry;
  };

  return (req, ctx) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new MethodNotAllowedError(`${req.method} is not allowed on static files`, 'METHOD_NOT_ALLOWED', { headers: { allow: 'GET, HEAD' } });
    }
    let path = req.path;
    if (options.stripPrefix && ctx.route !== null && ctx.route.prefix !== '/') path = path.slice(ctx.route.prefix.length) || '/';
    if (files !== null) {
      const hit = prepared.get(path);
      if (hit !== undefined && stillFresh(hit, files)) {
        ctx.endTiming(ctx.startTiming('static'));
        return respond(req, pick(hit, req.headers['accept-encoding']));
      }
    }
    return slowPath(req, ctx, path);
  };

  async function slowPath(req: PorticoRequest, ctx: Parameters<Handler>[1], path: string): Promise<PorticoResponse> {
    const slot = ctx.startTiming('static');
    try {
      if (files === null) {
        realRoot = await realpath(options.root);
        files ??= new FileCache(realRoot, { followSymlinks: options.followSymlinks });
      }
      const found = await resolve(req, path, files);
      return 'deps' in found ? respond(req, pick(found, req.headers['accept-encoding'])) : found;
    } finally {
      ctx.endTiming(slot);
    }
  }
}

function stillFresh(p: Prepared, files: FileCache): boolean {
  const now = files.clock();
  for (const d of p.deps) if (files.fresh(d.path, now) !== d.info) return false;
  return true;
}

function variant(base: Record<string, string>, coding: string | null, info: FileEntry, varies: boolean): Variant {
  const headers: Record<string, string> = { ...base };
  if (varies) headers['vary'] = 'Accept-Encoding';
  if (coding !== null) headers['content-encoding'] = coding;
  // Each encoding is its own representation with its own validator (RFC 9110 §8.8.3).
  headers['etag'] = coding !== null ? info.etag.slice(0, -1) + '-' + coding + '"' : info.etag;
  headers['last-modified'] = info.lastModified;
  const length = String(info.size);
  return { coding, info, headers, length, checked: checkedOnce(headers, length) };
}

/**
 * The prepared fields, checked as the edge's writer would check them (a token name, a value that
 * cannot split the head), once per prepared file instead of once per response. Stops at the first
 * that fails (a Cache-Control from the config with a bad byte, say): the writer then checks that
 * one and every later one itself, and refuses the response (502) as it would have.
 */
function checkedOnce(headers: Readonly<Record<string, string>>, length: string): CheckedFields {
  const out: string[] = [];
  for (const name in headers) {
    if (!isFieldName(name) || !isFieldValue(headers[name])) return out;
    out.push(name, headers[name]);
  }
  out.push('content-length', length);
  return out;
}

function pick(p: Prepared, accept: string | undefined): Variant {
  if (p.variants.length === 0) return p.identity;
  const coding = negotiateEncoding(accept, p.codings);
  return p.variants.find((v) => v.coding === coding) ?? p.identity;
}

function respond(req: PorticoRequest, chosen: Variant): PorticoResponse {
  // Each response gets its own headers object: the edge and later layers add fields to it.
  const headers: Record<string, string> = { ...chosen.headers };
  const info = chosen.info;
  const etag = headers['etag'];
  // RFC 9110 §13.2.2: If-None-Match is evaluated before If-Modified-Since, which it overrides.
  if (notModified(req.headers['if-none-match'], req.headers['if-modified-since'], etag, info.mtimeMs)) {
    delete headers['content-type'];
    return { status: 304, headers, body: null };
  }
  const range = req.headers['range'];
  if (range !== undefined && ifRangeHolds(req.headers['if-range'], etag, info.mtimeMs)) {
    const ranges = parseRange(range, info.size);
    if (ranges === 'unsatisfiable') {
      headers['content-range'] = `bytes */${info.size}`;
      headers['content-length'] = '0';
      return { status: 416, headers, body: null };
    }
    if (ranges !== null) return rangeResponse(req.method === 'HEAD', headers, info, ranges);
  }
  headers['content-length'] = chosen.length;
  const checkedFields = chosen.checked;
  if (req.method === 'HEAD') return { status: 200, headers, body: null, checkedFields };
  return { status: 200, headers, body: info.data ?? createReadStream(info.real, { highWaterMark: 256 * 1024 }), checkedFields };
}

function notModified(inm: string | undefined, ims: string | undefined, etag: string, mtimeMs: number): boolean {
  if (inm !== undefined) {
    if (inm.trim() === '*') return true;
    // Weak comparison for GET/HEAD (§13.1.2): W/ prefixes are ignored.
    const bare = etag.replace(/^W\//, '');
    return inm.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
  }
  if (ims !== undefined) {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
  }
  return false;
}

/** RFC 9110 §13.1.5: If-Range needs a strong match of the entity tag, or an exact date. */
function ifRangeHolds(ifRange: string | undefined, etag: string, mtimeMs: number): boolean {
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  if (v.startsWith('"')) return v === etag;
  if (v.startsWith('W/')) return false;
  const date = Date.parse(v);
  return !Number.isNaN(date) && Math.floor(mtimeMs / 1000) * 1000 === date;
}
