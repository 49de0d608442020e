import { loadWithEnv } from '../load.ts';

export async function check(configFile: string): Promise<number> {
  const config = await loadWithEnv(configFile);
  const apps = Object.keys(config.apps).length;
  const pools = Object.keys(config.pools).length;
  process.stdout.write(`${configFile}: ok — ${config.listeners.length} listener(s), ${config.routes.length} route(s), ${pools} pool(s), ${apps} app(s)\n`);
  return 0;
}
