// Range requests (RFC 9110 §14): `bytes=` ranges only, validated against the representation size.

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/** Many tiny or overlapping ranges are a known amplification vector: answer with the whole file. */
const MAX_RANGES = 16;

/**
 * Returns the ranges to serve, 'unsatisfiable' (→ 416, §15.5.17), or null when the header should be
 * ignored and the full representation sent (unknown unit, malformed, too many ranges: §14.2 lets a
 * server ignore Range).
 */
export function parseRange(header: string, size: number): ByteRange[] | 'unsatisfiable' | null {
  const eq = header.indexOf('=');
  if (eq === -1 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return null;
  const specs = header.slice(eq + 1).split(',');
  if (specs.length > MAX_RANGES) return null;
  const out: ByteRange[] = [];
  for (const raw of specs) {
    const spec = raw.trim();
    const m = /^(\d*)-(\d*)$/.exec(spec);
    if (m === null || (m[1] === '' && m[2] === '')) return null;
    if (m[1] === '') {
      // suffix-byte-range-spec: the last N bytes (§14.1.1)
      const n = Number(m[2]);
      if (n === 0) continue;
      out.push({ start: Math.max(0, size - n), end: size - 1 });
    } else {
      const start = Number(m[1]);
      const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
      if (m[2] !== '' && Number(m[2]) < start) return null; // invalid range-spec: ignore the header
      if (start >= size) continue; // unsatisfiable on its own
      out.push({ start, end });
    }
  }
  if (out.length === 0) return 'unsatisfiable';
  return coalesce(out);
}

/** Merges overlapping or adjacent ranges (§14.1.1 lets a server coalesce them). */
function coalesce(ranges: ByteRange[]): ByteRange[] {
  if (ranges.length === 1) return ranges;
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [{ ...sorted[0] }];
  for (let i = 1; i < sorted.length; i++) {
    const last = out[out.length - 1];
    const r = sorted[i];
    if (r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}
