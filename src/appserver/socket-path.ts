// Worker socket naming. sun_path holds 108 bytes on Linux and 104 on macOS and the BSDs, NUL
// included; a longer path fails at bind() with an error that does not name the cause, so check first.
import { join } from 'node:path';

const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

/** `serial` tells apart a recycled worker from the one it replaces (same slot and generation). */
export function socketPath(runtimeDir: string, name: string, slot: number, generation: number, serial = 0): string {
  const path = join(runtimeDir, `${name}-${slot}-g${generation}${serial === 0 ? '' : `-r${serial}`}.sock`);
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new Error(
      `app server "${name}": worker socket path is ${bytes} bytes, over the ${MAX_SOCKET_PATH_BYTES}-byte limit for unix sockets: ${path} ` +
        '(use a shorter runtimeDir or app name)',
    );
  }
  return path;
}
