// `portico routes [--explain URL]`: the routing table as the stack builds it, no stack started.
import { loadWithEnv } from '../load.ts';
import { RouteTable } from '../../routing/route-table.ts';
import type { ResolvedConfig } from '../../config/resolved.ts';
import { describeRoute } from '../../routing/describe.ts';
import { compileConditions, describeConditions } from '../../routing/conditions.ts';
import { RequestContext } from '../../http/context.ts';

export async function routes(configFile: string, explain: string | undefined): Promise<number> {
  const config = await loadWithEnv(configFile);
  const rows = config.routes.map((r) => [String(r.index), r.hosts.length ? r.hosts.join(',') : '*', pathLabel(r), describeConditions(r.match), describeRoute(r), r.name]);
  process.stdout.write(table(['#', 'host', 'path', 'when', 'target', 'name'], rows));
  process.stdout.write('\nprecedence: exact host > wildcard host > any host; then =exact path > ~regex (config order) > longest prefix;\n' +
    'on the same path, routes with conditions first (config order, skipping those that do not hold), then the one without\n');
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
  const tableOf = new RouteTable(config.routes.map((r) => ({ index: r.index, name: r.name, hosts: r.hosts, path: r.path, pathKind: r.pathKind, conditional: r.match !== null, target: r })));
  // Conditions are evaluated for a plain GET of that URL from 127.0.0.1 with no other headers.
  const q = u.search.slice(1);
  const req = { method: 'GET', target: u.pathname + u.search, path: u.pathname, query: q, headers: { host: u.host }, body: null, httpVersion: '1.1' };
  const ctx = new RequestContext('127.0.0.1', true, '127.0.0.1', 0, u.protocol === 'https:' ? 'https' : 'http', u.hostname);
  const hit = tableOf.match(u.hostname.toLowerCase(), u.pathname, (e) => compileConditions(e.target.match)?.(req, ctx) ?? true);
  if (hit === null) return `${url}\n  → no route matches: 404 NO_ROUTE\n`;
  const r = hit.entry.target;
  const hostWhy = hit.group === '*' ? 'no host-specific route matched, so the host-less routes were searched' : `host group "${hit.group}" matched`;
  const pathWhy = r.pathKind === 'exact' ? `"${r.path}" is an exact match` : r.pathKind === 'regex' ? `regex ${r.path} matched (${hit.captures?.slice(1).map((c) => JSON.stringify(c)).join(', ') || 'no captures'})` : `"${r.path}" is the longest prefix of "${u.pathname}" there`;
  const when = r.match === null ? '' : `; its conditions (${describeConditions(r.match)}) hold for a GET from 127.0.0.1`;
  return `${url}\n  → route #${r.index} (${r.name}): ${describeRoute(r)}\n  because: ${hostWhy}; ${pathWhy}${when}\n`;
}

function pathLabel(r: ResolvedConfig['routes'][number]): string {
  return r.pathKind === 'exact' ? `=${r.path}` : r.pathKind === 'regex' ? `~${r.path}` : r.path;
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n';
  return line(head) + line(widths.map((w) => '-'.repeat(w))) + rows.map(line).join('');
}
