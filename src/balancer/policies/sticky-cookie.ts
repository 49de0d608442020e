// Sticky sessions by cookie: the first response pins the client to its server with a cookie
// holding the server's stable id; later requests carrying it go back there while it is usable,
// and are re-pinned (a new cookie) by weighted round robin when it is not.
import type { UpstreamServer } from '../server.ts';
import { cookieValue } from './cookie-value.ts';
import { usable, type PickRequest, type Policy } from './policy.ts';
import { smoothWeighted } from './smooth-weighted.ts';

export const DEFAULT_STICKY_COOKIE = 'portico_server';

export function stickyCookiePolicy(cookie: string = DEFAULT_STICKY_COOKIE): Policy {
  return {
    name: 'sticky-cookie',
    pick(servers: readonly UpstreamServer[], req: PickRequest) {
      const id = cookieValue(req.headers['cookie'], cookie);
      if (id !== undefined) {
        const pinned = servers.find((s) => s.id === id);
        if (pinned !== undefined && usable(pinned, req)) return pinned;
      }
      return smoothWeighted(servers, (s) => usable(s, req));
    },
    setCookie(server: UpstreamServer, req: PickRequest) {
      if (cookieValue(req.headers['cookie'], cookie) === server.id) return null;
      // HttpOnly: scripts have no business with it; SameSite=Lax (RFC 6265bis §5.4.7).
      return `${cookie}=${server.id}; Path=/; HttpOnly; SameSite=Lax`;
    },
  };
}
