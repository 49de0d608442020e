// `portico routes [--explain URL]`: the routing table as the stack builds it, no stack started.
import { loadWithEnv } from '../load.ts';
import { RouteTable } from '../../routing/route-table.ts';
import type { ResolvedConfig } from '../../config/resolved.ts';
import { describeRoute } from '../../routing/describe.ts';

export async function routes(configFile: string, explain: string | undefined): Promise<number> {
  const config = await loadWithEnv(configFile);
  const rows = config.routes.map((r) => [String(r.index), r.hosts.length ? r.hosts.join(',') : '*', r.path, describeRoute(r), r.name]);
  process.stdout.write(table(['#', 'host', 'path', 'target', 'name'], rows));
  process.stdout.write('\nprecedence: exact host > wildcard host > any host; then longest path prefix; then config order\n');
  if (explain !== undefined) process.stdout.write('\n' + explainUrl(config, explain));
  return 0;
}

export function explainUrl(config: ResolvedConfig, url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `cannot explain "${url}": expected an absolute URL like http://localhost/api/products\n`;
  }
  const tableOf = new RouteTable(config.routes.map((r) => ({ index: r.index, name: r.name, hosts: r.hosts, path: r.path, target: r })));
  const hit = tableOf.match(u.hostname.toLowerCase(), u.pathname);
  if (hit === null) return `${url}\n  → no route matches: 404 NO_ROUTE\n`;
  const r = hit.entry.target;
  const hostWhy = hit.group === '*' ? 'no host-specific route matched, so the host-less routes were searched' : `host group "${hit.group}" matched`;
  return `${url}\n  → route #${r.index} (${r.name}): ${describeRoute(r)}\n  because: ${hostWhy}; "${r.path}" is the longest prefix of "${u.pathname}" there\n`;
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n';
  return line(head) + line(widths.map((w) => '-'.repeat(w))) + rows.map(line).join('');
}
