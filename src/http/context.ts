// Per-request state shared by the layers: identity, client, route and timings.
// One object per request, created by the edge; fields are plain so V8 keeps one hidden class.
import { newRequestId } from './request-id.ts';

export { newRequestId };

/** What routing decided, for the layers after it (proxy, cache key, logs). */
export interface RouteMatch {
  /** Index in the config's routes array, and a readable name for logs and `portico routes`. */
  readonly index: number;
  readonly name: string;
  /** The matched path prefix, so a target can strip it ("/" for exact and regex routes). */
  readonly prefix: string;
  /** A regex route's captures, for rewrites and redirects (`$1`, `$<name>`). */
  readonly captures: RegExpExecArray | null;
}

/**
 * Something that says when the client has gone: AbortSignal's shape for listener objects, so a
 * consumer (the own upstream client) can watch an AbortSignal or a RequestContext alike; the
 * context needs no AbortController per request for it.
 */
export interface AbortWatch {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: EventListenerObject): void;
  removeEventListener(type: 'abort', listener: EventListenerObject): void;
}

/** One `Server-Timing` entry (W3C Server Timing); dur < 0 means "passed, not timed". */
export interface Timing {
  name: string;
  dur: number;
}

export class RequestContext implements AbortWatch {
  /** Request id: from a trusted peer's X-Request-Id, else made here. */
  id: string;
  readonly startedAt: number;
  /** The socket's peer, and whether it is a trusted proxy (its forwarded headers are believed). */
  readonly peerAddress: string;
  readonly peerTrusted: boolean;
  /** The client as resolved from trusted forwarded headers; the peer otherwise. */
  clientAddress: string;
  clientPort: number;
  scheme: 'http' | 'https';
  /** The authority the client asked for (Host, lowercased, without port). */
  host: string;
  route: RouteMatch | null = null;
  /** Address of the server that answered (nginx's $upstream_addr), set by the proxy. */
  upstreamAddress: string | null = null;
  /** Bytes written for the response (head + body), and of the body alone; set by the edge when done. */
  bytesSent = 0;
  bodyBytesSent = 0;
  readonly timings: Timing[] = [];
  private controller: AbortController | null = null;
  /** Listener objects watching the client leave without an AbortSignal (see AbortWatch). */
  private watchers: EventListenerObject[] | null = null;
  private closed = false;

  constructor(peerAddress: string, peerTrusted: boolean, clientAddress: string, clientPort: number, scheme: 'http' | 'https', host: string, id?: string) {
    this.id = id ?? newRequestId();
    this.startedAt = performance.now();
    this.peerAddress = peerAddress;
    this.peerTrusted = peerTrusted;
    this.clientAddress = clientAddress;
    this.clientPort = clientPort;
    this.scheme = scheme;
    this.host = host;
  }

  /** Aborted when the client goes away before the response is done. Made on first use only. */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.closed) this.controller.abort(new Error('client closed the connection'));
    }
    return this.controller.signal;
  }

  /** Called by the edge when the client connection closes early. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.controller?.abort(new Error('client closed the connection'));
    const watchers = this.watchers;
    if (watchers === null) return;
    this.watchers = null;
    const event = new Event('abort');
    for (const w of watchers) w.handleEvent(event);
  }

  /** AbortWatch: `listener.handleEvent` runs once if the client leaves (never when it left already). */
  addEventListener(_type: 'abort', listener: EventListenerObject): void {
    if (this.closed) return;
    (this.watchers ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: EventListenerObject): void {
    const watchers = this.watchers;
    if (watchers === null) return;
    const i = watchers.lastIndexOf(listener);
    if (i !== -1) watchers.splice(i, 1);
  }

  get aborted(): boolean {
    return this.closed;
  }

  /** Opens a timing entry in journey order (from `at`, default now); returns the slot to pass to `endTiming`. */
  startTiming(name: string, at = performance.now()): number {
    return this.timings.push({ name, dur: at }) - 1;
  }

  endTiming(slot: number): void {
    const t = this.timings[slot];
    t.dur = performance.now() - t.dur;
  }

  /** An entry without a duration, e.g. `route`. */
  mark(name: string): void {
    this.timings.push({ name, dur: -1 });
  }
}

/** `Server-Timing` value: `edge;dur=0.3, route, proxy;dur=2.1`. */
export function formatServerTiming(timings: readonly Timing[]): string {
  let out = '';
  for (let i = 0; i < timings.length; i++) {
    const t = timings[i];
    if (i > 0) out += ', ';
    out += t.dur < 0 ? t.name : t.name + ';dur=' + oneDecimal(t.dur);
  }
  return out;
}

/**
 * `n` ms with one decimal, cheaper than toFixed(1) per entry. Rounds n × 10 half up, so at an exact
 * binary tie (0.15 is 0.1499…) the last digit may differ from toFixed's by 0.1 ms: noise for a timing.
 */
function oneDecimal(n: number): string {
  // Negative, huge or odd values (never a real duration) keep toFixed's own notation.
  if (!(n >= 0 && n < 1e14)) return n.toFixed(1);
  const tenths = Math.round(n * 10);
  return Math.trunc(tenths / 10) + '.' + (tenths % 10);
}

/** A request id we accept from a trusted peer: visible ASCII, bounded, so it is safe in logs and headers. */
export function isAcceptableRequestId(value: string | undefined): value is string {
  return value !== undefined && value.length > 0 && value.length <= 200 && /^[\x21-\x7e]+$/.test(value);
}
