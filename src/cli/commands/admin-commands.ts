// Commands that talk to a running stack through its admin API.
import { loadWithEnv } from '../load.ts';
import { adminRequest } from '../../admin/admin-client.ts';
import { formatStatus } from './status-table.ts';

export async function status(configFile: string, json = false): Promise<number> {
  const config = await loadWithEnv(configFile);
  const res = await adminRequest(config.admin, 'GET', '/status');
  process.stdout.write(json || res.status !== 200 ? JSON.stringify(res.body, null, 2) + '\n' : formatStatus(res.body) + formatTotals(res.body));
  return res.status === 200 ? 0 : 1;
}

interface Server { address?: string; healthy?: boolean; draining?: boolean; requests?: number; failures?: number; inFlight?: number; ejections?: number; disagreements?: { slot?: number; healthy?: boolean; draining?: boolean }[] }
interface TotalsBody {
  aggregate?: { processes?: number; of?: number };
  dataPlane?: { role?: string; slot?: number; pid?: number | null; counted?: boolean; error?: string; counters?: { requests?: number } }[];
  pools?: Record<string, { queue?: { depth?: number }; retries?: { retried?: number }; servers?: Server[] }>;
  caches?: Record<string, Record<string, number>>;
  websockets?: { active?: number; total?: number; failed?: number };
}

/**
 * The pool, cache and WebSocket counters. With `processes` > 1 (src/dataplane) they are summed over
 * the data-plane processes, headed by how many they cover and what each process served.
 */
export function formatTotals(body: unknown): string {
  const s = (typeof body === 'object' && body !== null ? body : {}) as TotalsBody;
  const health = (v: { healthy?: boolean; draining?: boolean }) => (v.draining === true ? 'draining' : v.healthy === false ? 'down' : 'up');
  const lines = [''];
  if (s.aggregate !== undefined) {
    lines.push(`totals over ${s.aggregate.processes ?? '?'} of ${s.aggregate.of ?? '?'} data-plane processes:`);
    for (const p of s.dataPlane ?? []) {
      const what = p.counted === true ? `${p.counters?.requests ?? 0} pool requests` : `not counted (${p.error ?? 'no answer'})`;
      lines.push(`  ${p.role ?? '?'} ${p.slot ?? '?'} (pid ${p.pid ?? '-'}): ${what}`);
    }
  }
  for (const [name, pool] of Object.entries(s.pools ?? {})) {
    lines.push(`pool ${name}: ${pool.queue?.depth ?? 0} queued, ${pool.retries?.retried ?? 0} retried`);
    for (const v of pool.servers ?? []) {
      const others = (v.disagreements ?? []).map((d) => `; ${health(d)} in process ${d.slot ?? '?'}`).join('');
      lines.push(`  ${v.address ?? '?'}: ${health(v)}${others}, ${v.requests ?? 0} requests, ${v.failures ?? 0} failures, ${v.inFlight ?? 0} in flight, ${v.ejections ?? 0} ejections`);
    }
  }
  for (const [name, c] of Object.entries(s.caches ?? {})) {
    lines.push(`cache ${name}: ${Object.entries(c).map(([k, n]) => `${n} ${k}`).join(', ')}`);
  }
  const ws = s.websockets;
  if (ws !== undefined) lines.push(`websockets: ${ws.active ?? 0} active, ${ws.total ?? 0} total, ${ws.failed ?? 0} failed`);
  return lines.length === 1 ? '' : lines.join('\n') + '\n';
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
