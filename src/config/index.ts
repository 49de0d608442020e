// The config layer's public API: define (users' config files), load and validate (the CLI, the stack).
export { defineConfig } from './define.ts';
export { loadConfig } from './load.ts';
export { validateConfig, type ValidationResult } from './validate.ts';
export { ConfigError, formatConfigIssues } from './errors.ts';
export type { ConfigIssue } from './issues.ts';
export { parseDuration } from './duration.ts';
export { configSchema } from './schema.ts';
export type * from './types.ts';
export type * from './resolved.ts';
