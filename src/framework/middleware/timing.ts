// The framework's own Server-Timing entries (W3C Server Timing; DESIGN.md principle 8): `mw` is
// the time from this middleware to the handler's start, `controller` the handler itself (the
// last function of the chain; for a request no route took, the 404/405/OPTIONS answer). The
// chain runner stamps the handler's start and end only when `c.timing` exists, so apps without
// timing() pay one comparison per request. Register it first so `mw` covers every middleware.
import type { Middleware } from '../middleware.ts';
import { editHeaders } from './response-headers.ts';

export function timing(): Middleware {
  return async function timing(c, next) {
    const start = performance.now();
    const t = (c.timing = { handlerStart: -1, handlerEnd: -1 });
    await next();
    const end = performance.now();
    // A middleware that answered before the handler: all of it was middleware time.
    const entries = t.handlerStart < 0
      ? `mw;dur=${ms(end - start)}`
      : `mw;dur=${ms(t.handlerStart - start)}, controller;dur=${ms(t.handlerEnd - t.handlerStart)}`;
    // Appended after entries already there; the app server's worker adds `app;dur=` after ours.
    editHeaders(c, (h) => h.append('server-timing', entries));
  };
}

function ms(n: number): string {
  return n.toFixed(2);
}
