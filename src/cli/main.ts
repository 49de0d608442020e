#!/usr/bin/env node
// The `portico` command: parses arguments, runs one command, maps failures to exit codes.
import { parseArgs } from 'node:util';
import { HELP } from './help.ts';
import { configPath } from './load.ts';
import { ConfigError } from '../config/errors.ts';

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELP[rest[0] ?? 'main'] ?? HELP.main);
    return command === undefined ? 1 : 0;
  }
  if (HELP[command] === undefined || command === 'main') {
    process.stderr.write(`portico: unknown command "${command}"\n\n${HELP.main}`);
    return 2;
  }
  let args;
  try {
    args = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        explain: { type: 'string' },
        host: { type: 'string' },
        json: { type: 'boolean' },
        workers: { type: 'string', short: 'w' },
        port: { type: 'string', short: 'p' },
        timeout: { type: 'string' },
        'graceful-timeout': { type: 'string' },
        'max-requests': { type: 'string' },
        'max-requests-jitter': { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`portico ${command}: ${(err as Error).message}\n\n${HELP[command]}`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(HELP[command]);
    return 0;
  }
  const file = configPath(args.values.config);
  try {
    switch (command) {
      case 'up': return await (await import('./commands/up.ts')).up(file);
      case 'check': return await (await import('./commands/check.ts')).check(file);
      case 'routes': return await (await import('./commands/routes.ts')).routes(file, args.values.explain);
      case 'middleware': return await (await import('./commands/middleware.ts')).middleware(file, args.positionals[0] ?? '/', args.values.host ?? 'localhost');
      case 'status': return await (await import('./commands/admin-commands.ts')).status(file, args.values.json === true);
      case 'reload': return await (await import('./commands/admin-commands.ts')).reload(file);
      case 'cert': {
        const { cert, CertUsageError } = await import('./commands/cert.ts');
        return await cert(file, args.positionals).catch((err: unknown) => {
          if (!(err instanceof CertUsageError)) throw err;
          process.stderr.write(`portico cert: ${err.message}\n\n${HELP.cert}`);
          return 2;
        });
      }
      case 'pool': return await (await import('./commands/admin-commands.ts')).pool(file, args.positionals);
      case 'serve': {
        const { serve, UsageError } = await import('./commands/serve.ts');
        const v = args.values;
        return await serve({ module: args.positionals[0], workers: v.workers, host: v.host, port: v.port, timeout: v.timeout, gracefulTimeout: v['graceful-timeout'],
          maxRequests: v['max-requests'], maxRequestsJitter: v['max-requests-jitter'] }).catch((err: unknown) => {
          if (!(err instanceof UsageError)) throw err;
          process.stderr.write(`portico serve: ${err.message}\n\n${HELP.serve}`);
          return 2;
        });
      }
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      return 1;
    }
    process.stderr.write(`portico ${command}: ${(err as Error).message}\n`);
    if (process.env.PORTICO_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  }
  return 2;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
