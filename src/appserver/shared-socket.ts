// Direct mode's listening socket (gunicorn's model): the master binds it and keeps it for its whole
// life; every worker gets a copy of the descriptor over IPC, listens on it and accepts for itself.
// The master never accepts, so it never sits on the request path. Because the socket outlives any
// worker, connections wait in its backlog while a lone crashed worker is replaced, and a worker
// that stops listening during a reload cannot reset connections queued for its siblings (the
// price of one SO_REUSEPORT socket per worker) nor lose the port (node:cluster closes its shared
// socket as soon as no worker holds it).
//
// Node has no public bind-without-listen. net._createServerHandle is the function node:cluster's
// own master uses for the same job (lib/internal/cluster/shared_handle.js), so it is kept working;
// it is checked here so a Node that drops it fails at start with a clear error.
import net from 'node:net';
import { lookup } from 'node:dns/promises';
import { getSystemErrorName } from 'node:util';
import type { TcpAddress } from './ipc.ts';

/** The raw libuv TCP handle: what child_process.send() transfers as 'net.Native'. */
export interface SharedSocket {
  readonly handle: object;
  readonly address: TcpAddress;
  close(): void;
}

interface TcpHandle {
  getsockname(out: { address?: string; port?: number }): number;
  close(): void;
}

type CreateServerHandle = (address: string, port: number, addressType: number, fd?: number, flags?: number) => TcpHandle | number;

export async function bindSharedSocket(listen: TcpAddress): Promise<SharedSocket> {
  const create = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle;
  if (typeof create !== 'function') throw new Error('direct mode needs net._createServerHandle, which this Node version lacks');
  const { address, family } = await lookup(listen.host);
  const handle = create(address, listen.port, family);
  if (typeof handle === 'number') {
    const code = getSystemErrorName(handle);
    throw Object.assign(new Error(`cannot listen on ${listen.host}:${listen.port}: ${code}`), { code });
  }
  const out: { address?: string; port?: number } = {};
  handle.getsockname(out);
  return { handle, address: { host: out.address ?? address, port: out.port ?? listen.port }, close: () => handle.close() };
}
