// Middleware that edits `c.res` after `next()` needs writable headers, but a `Response.redirect()`
// or a `fetch()` response has immutable ones (Fetch: the headers guard). Copy only then.
import type { Context } from '../context.ts';

/** Runs `edit` on the response's headers, copying the response first if they are immutable. */
export function editHeaders(c: Context, edit: (h: Headers) => void): void {
  const res = c.res!;
  try {
    edit(res.headers);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    // The guard rejects the first write, so nothing was half applied.
    const copy = new Response(res.body, { status: res.status, statusText: res.statusText, headers: new Headers(res.headers) });
    edit(copy.headers);
    c.res = copy;
  }
}

/** Adds a token to `Vary` once (RFC 9110 §12.5.5: a list; `*` already covers everything). */
export function addVary(h: Headers, token: string): void {
  const vary = h.get('vary');
  if (vary === null) return h.set('vary', token);
  const have = vary.split(',').map((v) => v.trim().toLowerCase());
  if (have.includes('*') || have.includes(token.toLowerCase())) return;
  h.set('vary', `${vary}, ${token}`);
}
