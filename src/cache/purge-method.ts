// `PURGE <target>` through the data plane (Varnish's and Squid's habit): who may send it is
// decided once, at build time, from the route's config; the check per request is a CIDR lookup
// and a constant-time token compare.
import { timingSafeEqual } from 'node:crypto';
import { trustedPeers } from '../edge/trusted-peers.ts';

export interface PurgeAccess {
  /** Client addresses (CIDR or bare) allowed to purge. */
  allow?: readonly string[];
  /** Or any client presenting `Authorization: Bearer <token>`. */
  token?: string;
}

export type PurgeGuard = (clientAddress: string, authorization: string | undefined) => boolean;

export function purgeGuard(access: PurgeAccess): PurgeGuard {
  const allowed = access.allow === undefined ? null : trustedPeers(access.allow);
  const token = access.token === undefined ? null : Buffer.from(access.token);
  return (clientAddress, authorization) => {
    if (allowed !== null && allowed.has(clientAddress)) return true;
    if (token === null || authorization === undefined || !authorization.startsWith('Bearer ')) return false;
    const given = Buffer.from(authorization.slice(7));
    return given.length === token.length && timingSafeEqual(given, token);
  };
}
