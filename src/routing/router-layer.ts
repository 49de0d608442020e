// The routing stage: picks the route for host + path (+ conditions), records it in the context,
// and hands the request to that route's own chain (built once per config snapshot).
import type { Handler } from '../http/types.ts';
import { NotFoundError } from '../http/errors.ts';
import type { RouteTable } from './route-table.ts';
import type { Condition } from './conditions.ts';

export interface RouteTarget {
  handler: Handler;
  /** The route's extra conditions; null = host and path decide alone. */
  when: Condition | null;
}

export function routingHandler(table: RouteTable<RouteTarget>): Handler {
  // Without conditions no per-request closure is needed to ask them.
  const conditional = table.entries.some((e) => e.target.when !== null);
  return (req, ctx) => {
    const hit = conditional
      ? table.match(ctx.host, req.path, (e) => e.target.when === null || e.target.when(req, ctx))
      : table.match(ctx.host, req.path);
    if (hit === null) throw new NotFoundError(`no route for ${ctx.host}${req.path}`, 'NO_ROUTE');
    const e = hit.entry;
    ctx.route = { index: e.index, name: e.name, prefix: e.pathKind === undefined || e.pathKind === 'prefix' ? e.path : '/', captures: hit.captures };
    ctx.mark('route');
    return e.target.handler(req, ctx);
  };
}
