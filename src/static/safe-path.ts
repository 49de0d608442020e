// Maps a request path to a file under the root, or refuses. Every way out of the root is closed
// here: `..` (also percent-encoded, %2e%2e), encoded slashes and backslashes, NUL bytes.
// Symlinks pointing out of the root are checked after realpath in serve-static.ts.
import { sep, join } from 'node:path';
import { BadRequestError, NotFoundError } from '../http/errors.ts';

export function resolveUnderRoot(root: string, urlPath: string): string {
  const segments = urlPath.split('/');
  const clean: string[] = [];
  for (const raw of segments) {
    if (raw === '' || raw === '.') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      throw new BadRequestError('malformed percent-encoding in path', 'BAD_PATH');
    }
    if (seg.includes('\0')) throw new BadRequestError('NUL byte in path', 'BAD_PATH');
    // A decoded "/" or "\" would let one URL segment become several file-system segments.
    if (seg.includes('/') || seg.includes('\\')) throw new NotFoundError('not found', 'NOT_FOUND');
    if (seg === '..') throw new NotFoundError('not found', 'NOT_FOUND');
    if (seg === '.') continue;
    clean.push(seg);
  }
  const full = join(root, ...clean);
  if (full !== root && !full.startsWith(root.endsWith(sep) ? root : root + sep)) throw new NotFoundError('not found', 'NOT_FOUND');
  return full;
}
