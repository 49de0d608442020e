// `portico middleware [PATH]`: the ordered chain a request on that route passes, like
// `rails middleware`: the data-plane stages first, then the app's own middleware when the app
// can list it (Portico's framework exposes `app.middleware(path)`).
import { pathToFileURL } from 'node:url';
import { loadWithEnv } from '../load.ts';
import { Stack } from '../../stack.ts';
import { createLogger } from '../../observability/logger.ts';

interface ListedMiddleware { name: string; scope?: string; addedAt?: string }

export async function middleware(configFile: string, path: string, host: string): Promise<number> {
  const config = await loadWithEnv(configFile);
  const stack = new Stack(config, { log: createLogger({ level: 'warn' }) });
  const url = new URL(path, `http://${host}`);
  const routes = stack.routes();
  const { RouteTable } = await import('../../routing/route-table.ts');
  const hit = new RouteTable(routes.map((r) => ({ index: r.index, name: r.name, hosts: r.hosts, path: r.path, pathKind: config.routes[r.index].pathKind, target: r }))).match(url.hostname, url.pathname);
  const lines: string[] = [];
  let n = 0;
  const add = (name: string, what: string) => lines.push(`${String(++n).padStart(2)}. ${name.padEnd(14)} ${what}`);
  add('edge', 'HTTP/1.1 listener: strict framing, limits, client address, X-Request-Id, Server-Timing, error responses');
  add('routing', 'host + path prefix → route');
  if (hit === null) {
    lines.push(`    (no route matches ${url.hostname}${url.pathname}: 404 NO_ROUTE)`);
  } else {
    const r = hit.entry.target;
    lines[lines.length - 1] += `: #${r.index} ${r.name} (${r.target})`;
    for (const s of r.stages) add(s.name, s.describe);
    const route = config.routes[r.index];
    if (route.kind === 'app') {
      const listed = await appMiddleware(config.apps[route.app].module, url.pathname, route.stripPrefix ? r.path : '');
      if (listed === null) lines.push('    (the app does not list its middleware)');
      for (const m of listed ?? []) add(m.name, `framework middleware${m.scope ? ` [${m.scope}]` : ''}${m.addedAt ? ` — ${m.addedAt}` : ''}`);
      if (listed !== null) add('router', 'framework router → controller');
    }
  }
  process.stdout.write(`${url.hostname}${url.pathname}\n${lines.join('\n')}\n`);
  await stack.stop(0).catch(() => {});
  return 0;
}

async function appMiddleware(module: string, path: string, strip: string): Promise<ListedMiddleware[] | null> {
  const mod = (await import(pathToFileURL(module).href)) as { default?: { middleware?: (path?: string) => ListedMiddleware[] } };
  const app = mod.default;
  if (app === undefined || typeof app.middleware !== 'function') return null;
  const appPath = strip && path.startsWith(strip) ? path.slice(strip.length) || '/' : path;
  return app.middleware(appPath);
}
