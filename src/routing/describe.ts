import type { ResolvedRoute } from '../config/resolved.ts';

/** One-line description of where a route sends requests, shared by the CLI and the stack. */
export function describeRoute(route: ResolvedRoute): string {
  switch (route.kind) {
    case 'upstream': return `pool ${route.upstream}${route.stripPrefix ? ' (strip prefix)' : ''}`;
    case 'app': return `app ${route.app}${route.stripPrefix ? ' (strip prefix)' : ''}`;
    case 'static': return `static ${route.static.root}`;
    case 'redirect': return `redirect ${route.redirect.status} ${route.redirect.to}`;
    case 'respond': return `respond ${route.respond.status}`;
  }
}
