// A request body streamed from the client socket: the connection pushes bytes in, pausing the
// socket when the consumer falls behind, and `_read` (the consumer asking for more) resumes it.
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';

export class RequestBody extends Readable {
  private readonly socket: Socket;
  /** Sends `100 Continue` (RFC 9110 §10.1.1): on the first read, so only a body someone reads is asked for. */
  private pendingContinue: (() => void) | null = null;

  constructor(socket: Socket) {
    super();
    this.socket = socket;
    // A malformed body is answered by the edge (400 and close); a consumer that never attached
    // (the handler did not read it) must not turn that into an uncaught 'error'.
    this.on('error', () => {});
  }

  /**
   * The client waits for `100 Continue` before sending the body: `send` runs when a consumer first
   * asks for it. A handler that answers without reading (413 on a declared length past the route's
   * maxBodySize, a redirect, a fixed response) never asks the client for its body.
   */
  expectContinue(send: () => void): void {
    this.pendingContinue = send;
  }

  /** Returns false when the socket was paused for backpressure. */
  deliver(chunk: Buffer): boolean {
    this.pendingContinue = null; // the client did not wait: nothing to ask for
    // The chunk may be a slice of a buffer that is later re-stashed: copy nothing, but never
    // reuse read buffers (node allocates a fresh one per read), so the slice stays valid.
    if (this.push(chunk)) return true;
    this.socket.pause();
    return false;
  }

  override _read(): void {
    const send = this.pendingContinue;
    if (send !== null) {
      this.pendingContinue = null;
      send();
    }
    if (this.socket.isPaused()) this.socket.resume();
  }
}
