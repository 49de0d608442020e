// loadConfig(): import a `portico.config.ts`, validate its default export, and throw one ConfigError
// that lists everything wrong (or says why the file could not be imported at all).
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from './errors.ts';
import type { ResolvedConfig } from './resolved.ts';
import { validateConfig } from './validate.ts';

export async function loadConfig(file: string): Promise<ResolvedConfig> {
  const path = resolve(file);
  if (statSync(path, { throwIfNoEntry: false })?.isFile() !== true) {
    const message = `config file not found: ${path}`;
    throw new ConfigError(path, [{ path: '(file)', message }], { message });
  }
  let exported: unknown;
  try {
    // A query string makes each load a fresh module: `portico reload` must see the edited file,
    // not the copy in the ESM cache. (Each version stays in memory; reloads are rare and small.)
    const url = pathToFileURL(path);
    url.search = `?t=${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const module = (await import(url.href)) as { default?: unknown };
    exported = module.default;
  } catch (err) {
    const message = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
    throw new ConfigError(path, [{ path: '(file)', message }], { cause: err });
  }
  if (exported === undefined) {
    throw new ConfigError(path, [{ path: '(file)', message: 'no default export: expected `export default defineConfig({ … })`' }]);
  }
  const result = validateConfig(exported, dirname(path));
  if (!result.ok) throw new ConfigError(path, result.issues);
  return result.config;
}
