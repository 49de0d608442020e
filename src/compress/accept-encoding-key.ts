// Cache + compression on one route (Varnish's `http_gzip_support`, generalised to br/zstd/gzip):
// the compressor sits below the cache, so the cache stores each coding once and serves hits
// without compressing again. Vary: Accept-Encoding (RFC 9110 §12.5.3, §12.5.5) would then key a
// variant per distinct header string (RFC 9111 §4.1: thousands, from browsers and bots); instead
// the request's Accept-Encoding is rewritten, in front of the cache, to the one coding the
// compressor would choose for it: `br`, `zstd`, `gzip` or `identity`. At most four variants per
// URL; each is selected by the coding it holds; `Vary: Accept-Encoding` still goes to clients.
//
// The rewritten field also goes upstream. That is what keeps it correct: an origin that encodes
// by itself is asked for exactly that coding (or `identity`), so whatever it sends is acceptable
// to every client that shares the variant. Only GET and HEAD are rewritten (the only requests
// the cache looks up); other methods pass through with the client's own field.
import type { Handler } from '../http/types.ts';
import { chosenCoding } from './compress.ts';

export function acceptEncodingKey(next: Handler): Handler {
  return (req, ctx) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next(req, ctx);
    const accept = req.headers['accept-encoding'];
    const coding = chosenCoding(accept);
    if (accept === coding) return next(req, ctx);
    return next({ ...req, headers: { ...req.headers, 'accept-encoding': coding } }, ctx);
  };
}
