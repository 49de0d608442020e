// The contract every selection policy implements. A policy only chooses among servers whose
// `available` predicate holds (healthy && !full && !draining) and that this request has not
// already tried (retries go to a different server); it never looks at health itself.
import type { UpstreamServer } from '../server.ts';

export interface PickRequest {
  readonly clientAddress: string;
  /** Lowercased request header names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Servers this request already tried; null when none. */
  readonly exclude: ReadonlySet<UpstreamServer> | null;
}

export interface Policy {
  readonly name: string;
  /** Null when no server may take the request now. */
  pick(servers: readonly UpstreamServer[], req: PickRequest): UpstreamServer | null;
  /** A `Set-Cookie` value to add to the response, for policies that pin clients (sticky cookie). */
  setCookie?(server: UpstreamServer, req: PickRequest): string | null;
}

export function usable(s: UpstreamServer, req: PickRequest): boolean {
  return s.available && (req.exclude === null || !req.exclude.has(s));
}
