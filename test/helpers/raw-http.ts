// Test helper: raw bytes to a listener, everything it answers until it closes (or a deadline).
import net from 'node:net';

export interface RawAnswer {
  text: string;
  /** The server closed the connection (false: the deadline passed with it still open). */
  closed: boolean;
}

/** Sends `parts` (written one after another) and collects until close or `deadlineMs`. */
export function exchange(port: number, parts: string | Buffer | (string | Buffer)[], deadlineMs = 2_000, until?: (text: string) => boolean, onConnect?: (socket: net.Socket) => void): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => finish(false), deadlineMs);
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      onConnect?.(socket);
      for (const p of Array.isArray(parts) ? parts : [parts]) socket.write(p);
    });
    socket.on('data', (d: string) => {
      text += d;
      if (until?.(text)) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** The status codes of every response in a raw answer, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])).filter((s) => s !== 100);
}

/** Whether `text` holds at least one complete response with a Content-Length (or a bodiless one). */
export function oneResponse(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return false;
  const head = text.slice(0, end).toLowerCase();
  if (/^http\/1\.1 100 /.test(head)) return oneResponse(text.slice(end + 4));
  const cl = /\r\ncontent-length: (\d+)/.exec(head);
  return text.length - end - 4 >= (cl === null ? 0 : Number(cl[1]));
}
