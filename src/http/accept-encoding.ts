// Accept-Encoding negotiation (RFC 9110 §12.5.3), shared by static precompressed files and the
// compression layer. q=0 means "not acceptable"; `identity` is acceptable unless refused.

export interface Coding {
  name: string;
  q: number;
}

export function parseAcceptEncoding(value: string | undefined): Coding[] {
  if (value === undefined) return [];
  const out: Coding[] = [];
  for (const part of value.split(',')) {
    const [rawName, ...params] = part.split(';');
    const name = rawName.trim().toLowerCase();
    if (name === '') continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k.trim().toLowerCase() === 'q') {
        const n = Number(v?.trim());
        q = Number.isFinite(n) && n >= 0 && n <= 1 ? n : 0;
      }
    }
    out.push({ name, q });
  }
  return out;
}

/**
 * The best of `available` (in server preference order) for this request, or null for identity.
 * An explicit q wins over `*`; ties go to the server's order (br before gzip: smaller output).
 */
export function negotiateEncoding(header: string | undefined, available: readonly string[]): string | null {
  if (header === undefined || header === '') return null;
  const codings = parseAcceptEncoding(header);
  const star = codings.find((c) => c.name === '*');
  let best: string | null = null;
  let bestQ = 0;
  for (const name of available) {
    const c = codings.find((x) => x.name === name || (name === 'gzip' && x.name === 'x-gzip'));
    const q = c !== undefined ? c.q : star !== undefined ? star.q : 0;
    if (q > bestQ) {
      best = name;
      bestQ = q;
    }
  }
  return best;
}
