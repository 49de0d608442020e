// Checks across parts of the config: references between routes, pools and apps, ports and names
// used twice, routes that can never match. They run on whatever parsed (see parse.ts), so they
// report alongside schema errors instead of after them.
import { resolve } from 'node:path';
import { isLoopback, parseServerUrl } from './fields.ts';
import type { Issue } from './issues.ts';
import type { Item, Named, ParsedParts } from './parse.ts';
import { adminSocketOf, DEFAULT_LISTEN_HOST, hostsOf, normalisePath, processCount, runtimeDirOf } from './resolve.ts';
import type { ParsedListener } from './schema.ts';

/** sun_path is 108 bytes on Linux (104 on macOS) including the NUL; a longer path fails at bind(). */
const MAX_SOCKET_PATH = 103;

const isWildcard = (host: string): boolean => host === '0.0.0.0' || host === '::' || host === '';

/** Two binds to one port collide when the hosts are equal, either is a wildcard, or `localhost` meets a loopback address. */
function overlaps(a: string, b: string): boolean {
  return a === b || isWildcard(a) || isWildcard(b) || (isLoopback(a) && isLoopback(b) && (a === 'localhost' || b === 'localhost'));
}

function checkListeners(listeners: readonly Item<ParsedListener>[], issues: Issue[]): void {
  const seen: { index: number; host: string; port: number; name?: string }[] = [];
  for (const { index, value, invalid } of listeners) {
    if (value.port === undefined || invalid.has('host')) continue;
    const host = value.host ?? DEFAULT_LISTEN_HOST;
    // Port 0 asks the kernel for a free port: any number of them can coexist.
    const clash = value.port === 0 ? undefined : seen.find((s) => s.port === value.port && overlaps(s.host, host));
    if (clash !== undefined) {
      const where = clash.host === host ? '' : ` (on ${clash.host})`;
      issues.push({ at: ['listeners', index, 'port'], message: `port ${value.port} is already used by listeners[${clash.index}]${where}` });
    }
    const named = value.name === undefined ? undefined : seen.find((s) => s.name === value.name);
    if (named !== undefined) {
      issues.push({ at: ['listeners', index, 'name'], message: `name ${JSON.stringify(value.name)} is already used by listeners[${named.index}]` });
    }
    seen.push({ index, host, port: value.port, name: value.name });
  }
}

function checkAdmin(parts: ParsedParts, baseDir: string, issues: Issue[]): void {
  const admin = parts.admin ?? {};
  if (admin.port !== undefined && admin.port !== 0) {
    const host = admin.host ?? DEFAULT_LISTEN_HOST;
    const listeners = parts.listeners ?? [{ index: 0, value: { port: 8080 } as ParsedListener, invalid: new Set() }];
    const clash = listeners.find(({ value }) => value.port === admin.port && overlaps(value.host ?? DEFAULT_LISTEN_HOST, host));
    if (clash !== undefined) {
      const owner = parts.listeners === undefined ? 'the default listener' : `listeners[${clash.index}]`;
      issues.push({ at: ['admin', 'port'], message: `port ${admin.port} is already used by ${owner}` });
    }
    return;
  }
  const socket = adminSocketOf(admin.socket, runtimeDirOf(parts.runtimeDir, baseDir), baseDir);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    const at = admin.socket !== undefined ? ['admin', 'socket'] : ['runtimeDir'];
    issues.push({ at, message: `admin socket path ${socket} is ${Buffer.byteLength(socket)} bytes; unix socket paths must be at most ${MAX_SOCKET_PATH} (choose a shorter runtimeDir or admin.socket)` });
  }
}

function checkServers(parts: ParsedParts, baseDir: string, issues: Issue[]): void {
  for (const [name, pool] of parts.pools.parsed) {
    pool.servers?.forEach((server, i) => {
      const address = parseServerUrl(server.url);
      if (address?.kind !== 'unix') return;
      const path = resolve(baseDir, address.path);
      if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
        issues.push({ at: ['pools', name, 'servers', i, 'url'], message: `socket path ${path} is ${Buffer.byteLength(path)} bytes; unix socket paths must be at most ${MAX_SOCKET_PATH}` });
      }
    });
  }
}

function unknownName(kind: string, name: string, known: Named<unknown>): string {
  const list = known.names.length === 0 ? `no ${kind}s are defined` : `known: ${known.names.join(', ')}`;
  return `unknown ${kind} ${JSON.stringify(name)} (${list})`;
}

function checkRoutes(parts: ParsedParts, issues: Issue[]): void {
  const names = new Map<string, number>();
  const matches = new Map<string, number>();
  for (const { index, value: route, invalid } of parts.routes) {
    if (route.upstream !== undefined && !parts.pools.names.includes(route.upstream)) {
      issues.push({ at: ['routes', index, 'upstream'], message: unknownName('pool', route.upstream, parts.pools) });
    }
    if (route.app !== undefined && !parts.apps.names.includes(route.app)) {
      issues.push({ at: ['routes', index, 'app'], message: unknownName('app', route.app, parts.apps) });
    }
    if (route.name !== undefined) {
      const first = names.get(route.name);
      if (first !== undefined) issues.push({ at: ['routes', index, 'name'], message: `name ${JSON.stringify(route.name)} is already used by routes[${first}]` });
      else names.set(route.name, index);
    }
    // The same host and path twice: the later route can never be chosen.
    // Routes with conditions (methods, headers…) may share a path: they are tried in config order.
    if (invalid.has('path') || invalid.has('host') || route.match !== undefined) continue;
    const path = route.exactPath !== undefined ? `=${route.exactPath}` : route.pathRegex !== undefined ? `~${route.pathRegex}` : normalisePath(route.path);
    const hosts = hostsOf(route.host);
    for (const host of hosts.length === 0 ? ['*any*'] : hosts) {
      const key = `${host} ${path}`;
      const first = matches.get(key);
      if (first !== undefined) {
        const on = host === '*any*' ? 'any host' : `host ${JSON.stringify(host)}`;
        issues.push({ at: ['routes', index, 'path'], message: `path ${JSON.stringify(path)} on ${on} is already routed by routes[${first}]; this route would never match` });
        break;
      }
      matches.set(key, index);
    }
  }
}

export function checkReferences(parts: ParsedParts, baseDir: string, issues: Issue[]): void {
  checkListeners(parts.listeners ?? [], issues);
  checkAdmin(parts, baseDir, issues);
  checkServers(parts, baseDir, issues);
  checkRoutes(parts, issues);
  checkProcesses(parts, issues);
}

/**
 * What cannot work in several data-plane processes (src/dataplane) is refused before anything starts.
 * ACME: a challenge's answer lives in the memory of the process that orders, while the kernel
 * spreads the CA's validation connections over every process bound with SO_REUSEPORT, so most
 * validations would fail. (Listeners are TCP only, so SO_REUSEPORT applies to all of them.)
 */
function checkProcesses(parts: ParsedParts, issues: Issue[]): void {
  const n = processCount(parts.processes);
  if (n <= 1) return;
  for (const { index, value } of parts.listeners ?? []) {
    const tls = value.tls;
    if (typeof tls === 'object' && 'acme' in tls) {
      issues.push({ at: ['processes'], message: `${n} data-plane processes cannot answer ACME challenges for listeners[${index}].tls.acme (the answer lives in the ordering process, validation connections reach any process): use processes: 1 there, or certificate files (tls.certs) renewed outside` });
    }
  }
}
