// Commands that talk to a running stack through its admin API.
import { loadWithEnv } from '../load.ts';
import { adminRequest } from '../../admin/admin-client.ts';

export async function status(configFile: string): Promise<number> {
  const config = await loadWithEnv(configFile);
  const res = await adminRequest(config.admin, 'GET', '/status');
  process.stdout.write(JSON.stringify(res.body, null, 2) + '\n');
  return res.status === 200 ? 0 : 1;
}

export async function reload(configFile: string): Promise<number> {
  const config = await loadWithEnv(configFile);
  const res = await adminRequest(config.admin, 'POST', '/reload');
  const body = res.body as { ok: boolean; error?: string };
  if (body.ok) process.stdout.write('reloaded\n');
  else process.stderr.write(`reload refused: ${body.error}\n`);
  return body.ok ? 0 : 1;
}
