// Talks to a running stack's admin API (unix socket or TCP).
import { Client } from 'undici';

export interface AdminTarget {
  socket?: string;
  host?: string;
  port?: number;
  token?: string;
}

export async function adminRequest(target: AdminTarget, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: unknown }> {
  const client = target.socket !== undefined
    ? new Client('http://localhost', { socketPath: target.socket })
    : new Client(`http://${target.host ?? '127.0.0.1'}:${target.port}`);
  try {
    const headers: Record<string, string> = {};
    if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`;
    const res = await client.request({ method, path, headers });
    const text = await res.body.text();
    return { status: res.statusCode, body: text === '' ? null : JSON.parse(text) };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') {
      throw new Error(`no running stack answers at ${target.socket ?? `${target.host}:${target.port}`} (is \`portico up\` running with this config?)`, { cause: err });
    }
    throw err;
  } finally {
    await client.close();
  }
}
