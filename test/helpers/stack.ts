// Starts a Stack in-process from a config object, on 127.0.0.1:0, for integration tests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from '../../src/stack.ts';
import { validateConfig } from '../../src/config/validate.ts';
import type { PorticoConfig } from '../../src/config/types.ts';
import { createLogger } from '../../src/observability/logger.ts';

export interface TestStack {
  stack: Stack;
  url: string;
  /** Log lines written at level warn and above. */
  logs: string[];
  close(): Promise<void>;
}

export async function startStack(input: Omit<PorticoConfig, 'listeners'> & Partial<Pick<PorticoConfig, 'listeners'>>, baseDir = process.cwd(), options: { accessLog?: boolean } = {}): Promise<TestStack> {
  const runtimeDir = mkdtempSync(join(tmpdir(), 'portico-test-'));
  const result = validateConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], runtimeDir, ...input }, baseDir);
  if (!result.ok) throw new Error('invalid test config:\n' + result.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n'));
  const logs: string[] = [];
  const stack = new Stack(result.config, { log: createLogger({ level: 'warn', write: (l) => logs.push(l) }), ...options });
  await stack.start();
  const a = stack.addresses()[0];
  return { stack, url: `http://127.0.0.1:${a.port}`, logs, close: () => stack.stop(2000) };
}
