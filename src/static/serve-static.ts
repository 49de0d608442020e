// Files from a directory, as nginx's `root` does: GET/HEAD, index file, validators and 304s
// (RFC 9110 §8.8, §13.1), MIME types, no listing, no escape from the root.
// Ranges, precompressed siblings and try_files arrive with the web-server issue.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import type { Handler } from '../http/types.ts';
import { MethodNotAllowedError, NotFoundError } from '../http/errors.ts';
import { resolveUnderRoot } from './safe-path.ts';
import { contentType } from './mime.ts';

export interface StaticOptions {
  /** Absolute directory. */
  root: string;
  index: string;
  cacheControl?: string;
  /** Strip the route prefix before mapping to a file. */
  stripPrefix: boolean;
}

export function staticHandler(options: StaticOptions): Handler {
  const { index, cacheControl } = options;
  let realRoot: string | null = null;
  return async (req, ctx) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new MethodNotAllowedError(`${req.method} is not allowed on static files`, 'METHOD_NOT_ALLOWED', { headers: { allow: 'GET, HEAD' } });
    }
    const slot = ctx.startTiming('static');
    try {
      realRoot ??= await realpath(options.root);
      let path = req.path;
      if (options.stripPrefix && ctx.route !== null && ctx.route.prefix !== '/') path = path.slice(ctx.route.prefix.length) || '/';
      let file = resolveUnderRoot(realRoot, path);
      let st = await stat(file).catch(() => null);
      if (st !== null && st.isDirectory()) {
        if (!req.path.endsWith('/')) {
          // nginx's behaviour: a directory is addressed with its trailing slash.
          return { status: 301, headers: { location: req.path + '/' + (req.query ? '?' + req.query : '') }, body: null };
        }
        file = file + sep + index;
        st = await stat(file).catch(() => null);
      }
      if (st === null || !st.isFile()) throw new NotFoundError(`no file for ${req.path}`, 'NOT_FOUND');
      const real = await realpath(file);
      if (!real.startsWith(realRoot + sep)) throw new NotFoundError(`no file for ${req.path}`, 'NOT_FOUND');
      const etag = `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
      const lastModified = new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString();
      const headers: Record<string, string> = {
        'content-type': contentType(file),
        etag,
        'last-modified': lastModified,
        'accept-ranges': 'none',
      };
      if (cacheControl !== undefined) headers['cache-control'] = cacheControl;
      if (notModified(req.headers['if-none-match'], req.headers['if-modified-since'], etag, st.mtimeMs)) {
        return { status: 304, headers, body: null };
      }
      headers['content-length'] = String(st.size);
      return { status: 200, headers, body: req.method === 'HEAD' ? null : createReadStream(real) };
    } finally {
      ctx.endTiming(slot);
    }
  };
}

/** RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since; weak comparison for GET/HEAD. */
function notModified(inm: string | undefined, ims: string | undefined, etag: string, mtimeMs: number): boolean {
  if (inm !== undefined) {
    if (inm.trim() === '*') return true;
    const bare = etag.slice(2);
    return inm.split(',').some((t) => {
      const v = t.trim();
      return v === etag || v === bare || v === 'W/' + bare;
    });
  }
  if (ims !== undefined) {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
  }
  return false;
}
