// Writes access log lines off the hot path: lines are gathered in memory and written in one call
// per tick (or when 64 KiB have built up), to stdout or a file opened for append. SIGUSR1 reopens
// the file (logrotate's copytruncate-free way, as nginx does). `close()` flushes synchronously, so
// nothing is lost at shutdown.
// Several processes may append to one log (`processes` > 1, src/dataplane): each write(2) carries
// whole lines only, so no line is cut by another process's. A file is opened O_APPEND, and Linux
// appends one write at once; a pipe (stdout) is atomic only up to PIPE_BUF, so stdout gets pieces
// of whole lines at most that long.
import { closeSync, openSync, writeSync, write as fsWrite } from 'node:fs';

export interface AccessLogWriter {
  write(line: string): void;
  /** Reopen the file (after rotation). */
  reopen(): void;
  /** Waits for a write in flight, writes the rest, closes the file. */
  close(): Promise<void>;
}

const FLUSH_BYTES = 64 * 1024;

export function createAccessLogWriter(path: string | null): AccessLogWriter {
  let fd = path === null ? 1 : openSync(path, 'a');
  let pending: string[] = [];
  let pendingBytes = 0;
  let scheduled = false;
  let writing: Promise<void> | null = null;

  const flushAsync = () => {
    scheduled = false;
    if (writing !== null || pending.length === 0) return;
    if (path === null) {
      for (const piece of pipePieces(pending)) process.stdout.write(piece);
      pending = [];
      pendingBytes = 0;
      return;
    }
    const chunk = Buffer.from(pending.join(''));
    pending = [];
    pendingBytes = 0;
    writing = new Promise<void>((resolve) => writeAll(fd, chunk, () => {
      writing = null;
      resolve();
      if (pending.length > 0) schedule();
    }));
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flushAsync);
  };

  return {
    write(line) {
      pending.push(line);
      pendingBytes += line.length;
      if (pendingBytes >= FLUSH_BYTES) flushAsync();
      else schedule();
    },
    reopen() {
      if (path === null) return;
      const old = fd;
      fd = openSync(path, 'a');
      // Writes in flight finish on the old descriptor (the rotated file), then it closes.
      setImmediate(() => { try { closeSync(old); } catch {} });
    },
    async close() {
      scheduled = true; // no more async flushes: everything left goes out below, in order
      if (writing !== null) await writing;
      const rest = pending.join('');
      if (path === null) for (const piece of pipePieces(pending)) process.stdout.write(piece);
      else if (rest !== '') writeSync(fd, rest);
      pending = [];
      pendingBytes = 0;
      if (path !== null) {
        try { closeSync(fd); } catch {}
      }
    },
  };
}

/** POSIX: a pipe write of at most PIPE_BUF bytes (4096 on Linux) is never interleaved with another writer's. */
const PIPE_BUF = 4096;

/** Lines joined into pieces of at most PIPE_BUF bytes (a longer line goes alone). */
export function pipePieces(lines: readonly string[]): string[] {
  const out: string[] = [];
  let piece = '';
  let bytes = 0;
  for (const line of lines) {
    const n = Buffer.byteLength(line);
    if (piece !== '' && bytes + n > PIPE_BUF) {
      out.push(piece);
      piece = '';
      bytes = 0;
    }
    piece += line;
    bytes += n;
  }
  if (piece !== '') out.push(piece);
  return out;
}

// A regular file takes the whole buffer in one write unless the disk is full or a limit is hit;
// only then does the rest follow in a second write.
function writeAll(fd: number, buf: Buffer, done: () => void): void {
  fsWrite(fd, buf, 0, buf.length, null, (err, n) => {
    if (err || n >= buf.length) return done();
    writeAll(fd, buf.subarray(n), done);
  });
}
