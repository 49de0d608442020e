// validateConfig(): the one entry point from "whatever the config file exported" to a ResolvedConfig,
// or to every mistake in it at once (schema and cross-reference errors together, in document order).
// Pure apart from checking that app modules and static roots exist: no environment is read here.
import { isAbsolute, resolve } from 'node:path';
import { checkReferences } from './checks.ts';
import { isPlainObject } from './fields.ts';
import { checkFiles } from './files.ts';
import { expectation, sortIssues, toConfigIssues, type ConfigIssue, type Issue } from './issues.ts';
import { parseParts } from './parse.ts';
import { resolveConfig } from './resolve.ts';
import type { ResolvedConfig } from './resolved.ts';

export type ValidationResult = { ok: true; config: ResolvedConfig } | { ok: false; issues: ConfigIssue[] };

/** `baseDir` is the config file's directory: relative paths in the config are resolved against it. */
export function validateConfig(input: unknown, baseDir: string): ValidationResult {
  const base = isAbsolute(baseDir) ? baseDir : resolve(baseDir);
  if (!isPlainObject(input)) {
    return { ok: false, issues: [{ path: '(config)', message: expectation('a config object (export default defineConfig({ … }))', input) }] };
  }
  const issues: Issue[] = [];
  const parts = parseParts(input, issues);
  checkReferences(parts, base, issues);
  checkFiles(parts, base, issues);
  if (issues.length > 0) return { ok: false, issues: toConfigIssues(sortIssues(issues, input)) };
  return { ok: true, config: resolveConfig(parts, base) };
}
