// The routing stage: picks the route for host + path, records it in the context, and hands the
// request to that route's own chain (built once per config snapshot).
import type { Handler } from '../http/types.ts';
import { NotFoundError } from '../http/errors.ts';
import type { RouteTable } from './route-table.ts';

export function routingHandler(table: RouteTable<Handler>): Handler {
  return (req, ctx) => {
    const hit = table.match(ctx.host, req.path);
    if (hit === null) throw new NotFoundError(`no route for ${ctx.host}${req.path}`, 'NO_ROUTE');
    const e = hit.entry;
    ctx.route = { index: e.index, name: e.name, prefix: e.path };
    ctx.mark('route');
    return e.target(req, ctx);
  };
}
