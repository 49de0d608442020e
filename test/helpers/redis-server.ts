// A real redis-server for tests: started on a free loopback port, no persistence (`--save ''
// --appendonly no`, so nothing is written to disk), stopped by the test. No mocks: the store is
// tested against the same server it will meet in production. `.ci/run` installs redis-server.
import { spawn, type ChildProcess } from 'node:child_process';
import { closedPort } from './servers.ts';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  // The free port can be taken between closing it and redis binding it: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await closedPort();
    try {
      const child = await launch(port);
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        stop: () => stopChild(child),
      };
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

function launch(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString('utf8');
      if (out.includes('Ready to accept connections')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        child.off('exit', onExit);
        resolve(child);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${out}`));
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.once('exit', onExit);
    child.once('error', reject);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
