// Cache-Control parsing (RFC 9111 §5.2): directive names are case-insensitive, values are tokens
// or quoted strings. Parsed once per message; the result is a plain map the rules read.

/** Directive name (lowercased) → its argument, or `true` when it has none. */
export type Directives = Map<string, string | true>;

const EMPTY: Directives = new Map();

export function parseCacheControl(value: string | string[] | undefined): Directives {
  if (value === undefined) return EMPTY;
  const text = Array.isArray(value) ? value.join(', ') : value;
  if (text === '') return EMPTY;
  const out: Directives = new Map();
  // A quoted argument may itself contain commas (`no-cache="a, b"`), so split on commas outside quotes.
  const re = /\s*([^=,\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*))?\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
    if (m[0] === '') break;
    const name = m[1].toLowerCase();
    let arg: string | true = true;
    if (m[2] !== undefined) arg = m[2].startsWith('"') ? m[2].slice(1, -1).replace(/\\(.)/g, '$1') : m[2].trim();
    // RFC 9111 §4.2.1: when a directive appears more than once, the first one is used.
    if (!out.has(name)) out.set(name, arg);
  }
  return out;
}

/**
 * A delta-seconds argument (RFC 9111 §1.2.2): digits only; anything else makes the directive invalid
 * (undefined). Values past 2^31 are capped there, as the RFC asks.
 */
export function deltaSeconds(d: Directives, name: string): number | undefined {
  const v = d.get(name);
  if (v === undefined || v === true || !/^\d+$/.test(v)) return undefined;
  return Math.min(Number(v), 2 ** 31);
}

/** Field names listed in a qualified `no-cache="…"` or `private="…"` (RFC 9111 §5.2.2.4, §5.2.2.7), lowercased. */
export function fieldNames(d: Directives, name: string): string[] | undefined {
  const v = d.get(name);
  if (v === undefined || v === true) return undefined;
  const names = v.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  return names.length === 0 ? undefined : names;
}

/** Request directives; `Pragma: no-cache` counts as `Cache-Control: no-cache` only when Cache-Control is absent (RFC 9111 §5.4). */
export function requestDirectives(headers: Readonly<Record<string, string>>): Directives {
  const cc = headers['cache-control'];
  if (cc === undefined && headers['pragma'] !== undefined && /(^|,)\s*no-cache\s*(,|$)/i.test(headers['pragma'])) {
    return new Map([['no-cache', true]]);
  }
  return parseCacheControl(cc);
}
