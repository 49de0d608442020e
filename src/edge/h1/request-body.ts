// A request body streamed from the client socket: the connection pushes bytes in, pausing the
// socket when the consumer falls behind, and `_read` (the consumer asking for more) resumes it.
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';

export class RequestBody extends Readable {
  private readonly socket: Socket;

  constructor(socket: Socket) {
    super();
    this.socket = socket;
    // A malformed body is answered by the edge (400 and close); a consumer that never attached
    // (the handler did not read it) must not turn that into an uncaught 'error'.
    this.on('error', () => {});
  }

  /** Returns false when the socket was paused for backpressure. */
  deliver(chunk: Buffer): boolean {
    // The chunk may be a slice of a buffer that is later re-stashed: copy nothing, but never
    // reuse read buffers (node allocates a fresh one per read), so the slice stays valid.
    if (this.push(chunk)) return true;
    this.socket.pause();
    return false;
  }

  override _read(): void {
    if (this.socket.isPaused()) this.socket.resume();
  }
}
