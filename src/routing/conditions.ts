// A route's conditions beyond host and path, compiled once into one predicate: methods, header
// and query values, client address. All must hold (nginx's `if` chains, Traefik's rule `&&`).
import type { PorticoRequest } from '../http/types.ts';
import type { RequestContext } from '../http/context.ts';
import type { ResolvedMatch } from '../config/resolved.ts';
import { trustedPeers } from '../edge/trusted-peers.ts';

export type Condition = (req: PorticoRequest, ctx: RequestContext) => boolean;

type ValueRule = string | readonly string[] | boolean;

export function compileConditions(match: ResolvedMatch | null): Condition | null {
  if (match === null) return null;
  const checks: Condition[] = [];
  if (match.methods !== undefined) {
    const methods = new Set(match.methods);
    // A route for GET also answers HEAD (RFC 9110 §9.3.2: HEAD is GET without content).
    if (methods.has('GET')) methods.add('HEAD');
    checks.push((req) => methods.has(req.method));
  }
  for (const [name, rule] of Object.entries(match.headers ?? {})) {
    const test = valueTest(rule);
    checks.push((req) => test(req.headers[name]));
  }
  const query = Object.entries(match.query ?? {});
  if (query.length > 0) {
    const tests = query.map(([name, rule]) => [name, valueTest(rule)] as const);
    checks.push((req) => {
      const params = new URLSearchParams(req.query);
      return tests.every(([name, test]) => test(params.has(name) ? params.get(name)! : undefined));
    });
  }
  if (match.clientIp !== undefined) {
    const allowed = trustedPeers(match.clientIp);
    checks.push((_req, ctx) => allowed.has(ctx.clientAddress));
  }
  if (checks.length === 1) return checks[0];
  return (req, ctx) => {
    for (let i = 0; i < checks.length; i++) if (!checks[i](req, ctx)) return false;
    return true;
  };
}

function valueTest(rule: ValueRule): (value: string | undefined) => boolean {
  if (rule === true) return (v) => v !== undefined;
  if (rule === false) return (v) => v === undefined;
  if (typeof rule === 'string') return (v) => v === rule;
  const set = new Set(rule);
  return (v) => v !== undefined && set.has(v);
}

/** For `portico routes`: the conditions in one line. */
export function describeConditions(match: ResolvedMatch | null): string {
  if (match === null) return '';
  const parts: string[] = [];
  if (match.methods) parts.push(match.methods.join('|'));
  for (const [k, v] of Object.entries(match.headers ?? {})) parts.push(`${k}${v === true ? '' : v === false ? ' absent' : `=${[v].flat().join('|')}`}`);
  for (const [k, v] of Object.entries(match.query ?? {})) parts.push(`?${k}${v === true ? '' : v === false ? ' absent' : `=${[v].flat().join('|')}`}`);
  if (match.clientIp) parts.push(`from ${match.clientIp.join(',')}`);
  return parts.join(' ');
}
