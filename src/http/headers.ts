// Header helpers shared by the layers.

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1): meaningful for one connection only, never forwarded.
 * `proxy-connection` and `keep-alive` are legacy but still sent by clients; `te` and `trailer`
 * are connection-level too.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authenticate', 'proxy-authorization',
]);

/** Extra hop-by-hop names a sender listed in its Connection field (RFC 9110 §7.6.1). */
export function connectionOptions(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const joined = Array.isArray(value) ? value.join(',') : value;
  const out: string[] = [];
  for (const part of joined.split(',')) {
    const name = part.trim().toLowerCase();
    if (name !== '' && name !== 'close' && name !== 'keep-alive') out.push(name);
  }
  return out;
}

/** Copies end-to-end fields only: drops hop-by-hop ones and those named in Connection. */
export function endToEnd<T extends string | string[] | undefined>(headers: Record<string, T>): Record<string, T> {
  const listed = connectionOptions(headers['connection'] as string | string[] | undefined);
  const out: Record<string, T> = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || (listed.length > 0 && listed.includes(name))) continue;
    out[name] = headers[name];
  }
  return out;
}

/** Appends to a possibly missing list-valued field. */
export function appendList(existing: string | undefined, value: string): string {
  return existing === undefined || existing === '' ? value : `${existing}, ${value}`;
}
