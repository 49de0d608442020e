// Files from a directory, as nginx's `root` and Caddy's file_server do: GET/HEAD, index file,
// try_files-style fallback (an SPA's index.html), validators and 304s (RFC 9110 §8.8, §13),
// ranges (§14), precompressed .br/.zst/.gz siblings, MIME types, Cache-Control by pattern, no
// directory listing, and no way out of the root. Small hot files are served from memory.
import { createReadStream } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import type { Handler, PorticoRequest, PorticoResponse } from '../http/types.ts';
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

export function staticHandler(options: StaticOptions): Handler {
  const { index } = options;
  const cacheControl = cacheControlFor(options.cacheControl);
  const precompressed = options.precompressed ?? true;
  let files: FileCache | null = null;
  let realRoot = '';
  return async (req, ctx) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new MethodNotAllowedError(`${req.method} is not allowed on static files`, 'METHOD_NOT_ALLOWED', { headers: { allow: 'GET, HEAD' } });
    }
    const slot = ctx.startTiming('static');
    try {
      if (files === null) {
        realRoot = await realpath(options.root);
        files = new FileCache(realRoot, { followSymlinks: options.followSymlinks });
      }
      let path = req.path;
      if (options.stripPrefix && ctx.route !== null && ctx.route.prefix !== '/') path = path.slice(ctx.route.prefix.length) || '/';
      let file = resolveUnderRoot(realRoot, path);
      let info = await files.lookup(file);
      if (info.kind === 'directory') {
        if (!req.path.endsWith('/')) {
          // nginx's behaviour: a directory is addressed with its trailing slash.
          return { status: 301, headers: { location: req.path + '/' + (req.query ? '?' + req.query : '') }, body: null };
        }
        file = file + sep + index;
        info = await files.lookup(file);
      }
      if (info.kind !== 'file' && options.fallback !== undefined) {
        file = resolveUnderRoot(realRoot, options.fallback);
        info = await files.lookup(file);
      }
      if (info.kind !== 'file') throw new NotFoundError(`no file for ${req.path}`, 'NOT_FOUND');
      const relative = file.slice(realRoot.length) || '/';
      const headers: Record<string, string> = { 'content-type': contentType(file), 'accept-ranges': 'bytes' };
      const cc = cacheControl(relative);
      if (cc !== undefined) headers['cache-control'] = cc;
      let chosen: FileInfo & { kind: 'file' } = info;
      if (precompressed) {
        const variant = await pickSibling(files, file, req.headers['accept-encoding']);
        if (variant.varies) headers['vary'] = 'Accept-Encoding';
        if (variant.info !== null) {
          chosen = variant.info;
          headers['content-encoding'] = variant.coding!;
        }
      }
      // Each encoding is its own representation with its own validator (RFC 9110 §8.8.3).
      headers['etag'] = headers['content-encoding'] ? chosen.etag.slice(0, -1) + '-' + headers['content-encoding'] + '"' : chosen.etag;
      headers['last-modified'] = chosen.lastModified;
      return respond(req, headers, chosen);
    } finally {
      ctx.endTiming(slot);
    }
  };
}

async function pickSibling(files: FileCache, file: string, accept: string | undefined): Promise<{ varies: boolean; info: (FileInfo & { kind: 'file' }) | null; coding: string | null }> {
  const present: { coding: string; info: FileInfo & { kind: 'file' } }[] = [];
  for (const [coding, ext] of SIBLINGS) {
    const info = await files.lookup(file + ext);
    if (info.kind === 'file') present.push({ coding, info });
  }
  if (present.length === 0) return { varies: false, info: null, coding: null };
  const coding = negotiateEncoding(accept, present.map((p) => p.coding));
  const hit = present.find((p) => p.coding === coding);
  return { varies: true, info: hit?.info ?? null, coding: hit?.coding ?? null };
}

function respond(req: PorticoRequest, headers: Record<string, string>, info: FileInfo & { kind: 'file' }): PorticoResponse {
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
  headers['content-length'] = String(info.size);
  if (req.method === 'HEAD') return { status: 200, headers, body: null };
  return { status: 200, headers, body: info.data ?? createReadStream(info.real, { highWaterMark: 256 * 1024 }) };
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
