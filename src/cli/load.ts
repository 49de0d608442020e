// Config loading for the CLI: the file, then environment overrides documented in `portico up --help`.
import { resolve } from 'node:path';
import { loadConfig } from '../config/load.ts';
import type { ResolvedConfig } from '../config/resolved.ts';

export function configPath(arg: string | undefined): string {
  return resolve(arg ?? 'portico.config.ts');
}

export async function loadWithEnv(file: string, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedConfig> {
  const config = await loadConfig(file);
  return applyEnv(config, env);
}

export function applyEnv(config: ResolvedConfig, env: NodeJS.ProcessEnv): ResolvedConfig {
  let out = config;
  const port = env.PORTICO_HTTP_PORT;
  if (port !== undefined && port !== '' && out.listeners.length > 0) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`PORTICO_HTTP_PORT: expected a port number 0-65535, got "${port}"`);
    out = { ...out, listeners: out.listeners.map((l, i) => (i === 0 ? { ...l, port: n } : l)) };
  }
  const dir = env.PORTICO_RUNTIME_DIR;
  if (dir !== undefined && dir !== '') {
    const runtimeDir = resolve(dir);
    const admin = out.admin.socket !== undefined && out.admin.socket.startsWith(out.runtimeDir)
      ? { ...out.admin, socket: runtimeDir + out.admin.socket.slice(out.runtimeDir.length) }
      : out.admin;
    out = { ...out, runtimeDir, admin };
  }
  return out;
}
