// ConfigError: what loadConfig() throws. Its message is the whole report, ready to print:
//   portico.config.ts: 2 errors
//     routes[2].upstream: unknown pool "api" (known: web, assets)
//     listeners[1].port: port 8080 is already used by listeners[0]
import { basename } from 'node:path';
import type { ConfigIssue } from './issues.ts';

export function formatConfigIssues(file: string, issues: readonly ConfigIssue[]): string {
  const count = `${issues.length} error${issues.length === 1 ? '' : 's'}`;
  return [`${basename(file)}: ${count}`, ...issues.map((issue) => `  ${issue.path}: ${issue.message}`)].join('\n');
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly file: string;
  readonly issues: readonly ConfigIssue[];

  /** `options.message` replaces the formatted list, for failures that are not about the config's content. */
  constructor(file: string, issues: readonly ConfigIssue[], options?: ErrorOptions & { message?: string }) {
    super(options?.message ?? formatConfigIssues(file, issues), options);
    this.file = file;
    this.issues = issues;
  }
}
