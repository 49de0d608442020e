// Route pattern syntax: `/products/:id`, optional `/posts/:id?`, wildcard `/files/*path` or `/*`.
// Parsed once at registration; the tree never sees pattern syntax.
import type { Segment } from './radix-tree.ts';

const NAME = /^[A-Za-z_$][\w$]*$/;

/**
 * Splits a pattern into tree segments. Optional params must come last, and expand into one
 * pattern per prefix (`/a/:b?/:c?` → `/a`, `/a/:b`, `/a/:b/:c`): the tree stays simple and a
 * lookup pays nothing for optionality. A middle optional (`/a/:b?/c`) would make `/a/x/c` and
 * `/a/c` ambiguous with other routes, so it is refused.
 */
export function parsePattern(pattern: string): Segment[][] {
  if (!pattern.startsWith('/')) throw new Error(`route pattern must start with "/": ${JSON.stringify(pattern)}`);
  const raw = pattern.slice(1).split('/');
  const names = new Set<string>();
  const segments: Segment[] = [];
  let required = -1;
  for (let i = 0; i < raw.length; i++) {
    const part = raw[i];
    const seg = parseSegment(part, pattern);
    if (seg.kind !== 'static') {
      if (names.has(seg.name)) throw new Error(`duplicate parameter "${seg.name}" in ${pattern}`);
      names.add(seg.name);
    }
    if (seg.kind === 'wildcard' && i !== raw.length - 1) {
      throw new Error(`a wildcard must be the last segment: ${pattern}`);
    }
    const optional = seg.kind === 'param' && part.endsWith('?');
    if (optional && required === -1) required = i;
    if (!optional && required !== -1) throw new Error(`only trailing parameters can be optional: ${pattern}`);
    segments.push(seg);
  }
  if (required === -1) return [segments];
  const variants: Segment[][] = [];
  // Dropping every optional leaves `/posts`, not `/posts/`; an all-optional pattern means `/`.
  for (let n = required; n <= segments.length; n++) {
    variants.push(n === 0 ? [{ kind: 'static', text: '' }] : segments.slice(0, n));
  }
  return variants;
}

function parseSegment(part: string, pattern: string): Segment {
  if (part.startsWith(':')) {
    const name = part.endsWith('?') ? part.slice(1, -1) : part.slice(1);
    if (!NAME.test(name)) throw new Error(`invalid parameter name "${name}" in ${pattern}`);
    return { kind: 'param', name };
  }
  if (part.startsWith('*')) {
    const name = part.length === 1 ? '*' : part.slice(1);
    if (name !== '*' && !NAME.test(name)) throw new Error(`invalid wildcard name "${name}" in ${pattern}`);
    return { kind: 'wildcard', name };
  }
  if (part.includes('?')) throw new Error(`only parameters can be optional: ${pattern}`);
  // The URL parser would resolve these away, so no request path can ever contain them.
  if (part === '.' || part === '..') throw new Error(`dot segments cannot match anything: ${pattern}`);
  // Requests are matched percent-encoded (as `Request.url` carries them), so a pattern written
  // with `café` or a space is encoded the same way, once, here.
  return { kind: 'static', text: new URL(`http://x/${part.replaceAll('#', '%23')}`).pathname.slice(1) };
}

/** The param names of one expanded pattern, in path order. */
export function paramNames(segments: readonly Segment[]): string[] {
  const out: string[] = [];
  for (const s of segments) if (s.kind !== 'static') out.push(s.name);
  return out;
}

export function isStatic(segments: readonly Segment[]): boolean {
  return segments.every((s) => s.kind === 'static');
}

/** A fully static expanded pattern as a path, the key of the router's exact-match fast path. */
export function staticPath(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) out += '/' + (s.kind === 'static' ? s.text : '');
  return out;
}
