// A replica's view of the primary's worker sockets: filled over IPC, read by the Stack's app pools.
import type { AppSocketSource } from '../stack.ts';

export class IpcSocketSource implements AppSocketSource {
  private readonly byApp = new Map<string, readonly string[]>();
  private readonly listeners: ((app: string) => void)[] = [];

  sockets(app: string): readonly string[] {
    return this.byApp.get(app) ?? [];
  }

  onChange(listener: (app: string) => void): void {
    this.listeners.push(listener);
  }

  set(app: string, sockets: readonly string[]): void {
    this.byApp.set(app, sockets);
    for (const l of this.listeners) l(app);
  }
}
