// Commands that talk to a running stack through its admin API.
import { loadWithEnv } from '../load.ts';
import { adminRequest } from '../../admin/admin-client.ts';
import { formatStatus } from './status-table.ts';

export async function status(configFile: string, json = false): Promise<number> {
  const config = await loadWithEnv(configFile);
  const res = await adminRequest(config.admin, 'GET', '/status');
  process.stdout.write(json || res.status !== 200 ? JSON.stringify(res.body, null, 2) + '\n' : formatStatus(res.body));
  return res.status === 200 ? 0 : 1;
}

/** `portico pool drain|undrain <pool> <server>`: 0 on success, 1 when refused, 2 on bad arguments. */
export async function pool(configFile: string, args: string[]): Promise<number> {
  const [action, name, server] = args;
  if ((action !== 'drain' && action !== 'undrain') || name === undefined || server === undefined || args.length > 3) {
    process.stderr.write('usage: portico pool drain|undrain <pool> <server>\n');
    return 2;
  }
  const config = await loadWithEnv(configFile);
  const res = await adminRequest(config.admin, 'POST', `/pools/${encodeURIComponent(name)}/servers/${encodeURIComponent(server)}/${action}`);
  const body = res.body as { ok?: boolean; error?: string };
  if (res.status === 200) process.stdout.write(`${action === 'drain' ? 'draining' : 'back in service'}: ${server} in pool ${name}\n`);
  else process.stderr.write(`${action} refused: ${body?.error ?? `admin API answered ${res.status}`}\n`);
  return res.status === 200 ? 0 : 1;
}

export async function reload(configFile: string): Promise<number> {
  const config = await loadWithEnv(configFile);
  const res = await adminRequest(config.admin, 'POST', '/reload');
  const body = res.body as { ok: boolean; error?: string; processes?: { pid: number | null; error: string | null }[] };
  if (body.ok) process.stdout.write('reloaded\n');
  else process.stderr.write(`reload refused: ${body.error}\n`);
  // processes > 1: a replica that refused keeps serving its previous config (src/dataplane).
  const kept = (body.processes ?? []).filter((p) => p.error !== null);
  for (const p of kept) process.stderr.write(`data-plane process ${p.pid ?? '?'} kept its previous config: ${p.error}\n`);
  return body.ok && kept.length === 0 ? 0 : 1;
}
