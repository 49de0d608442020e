// Access log formats with nginx's variables, compiled once per config into a function of one
// finished request. `combined` is nginx's default; `json` writes one object per line.
import type { PorticoRequest, PorticoResponse } from '../http/types.ts';
import type { RequestContext } from '../http/context.ts';

export interface LogEntry {
  req: PorticoRequest;
  res: PorticoResponse;
  ctx: RequestContext;
  /** Date.now() when the response finished. */
  time: number;
}

export type Formatter = (e: LogEntry) => string;

export const NAMED_FORMATS: Record<string, string> = {
  // nginx's log_format combined.
  combined: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"',
  // The seeds' format, with the request id and time so a line matches an error body.
  main: '[$time_local] $host to: $upstream_addr: $request $status $request_time $request_id',
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** nginx's $time_local: `23/Nov/2026:19:16:51 +0000`. */
export function timeLocal(d: Date): string {
  const p = (n: number) => (n < 10 ? '0' + n : String(n));
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  return `${p(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${off >= 0 ? '+' : '-'}${p(Math.floor(a / 60))}${p(a % 60)}`;
}

const dash = (v: string | undefined | null) => (v === undefined || v === null || v === '' ? '-' : v);
const seconds = (ms: number) => (ms / 1000).toFixed(3);

function upstreamResponseTime(ctx: RequestContext): string {
  const t = ctx.timings.find((x) => x.name === 'proxy' && x.dur >= 0);
  return t === undefined ? '-' : seconds(t.dur);
}

const VARIABLES: Record<string, (e: LogEntry) => string> = {
  remote_addr: (e) => e.ctx.clientAddress,
  remote_port: (e) => String(e.ctx.clientPort),
  realip_remote_addr: (e) => e.ctx.peerAddress,
  remote_user: () => '-',
  time_local: (e) => timeLocal(new Date(e.time)),
  time_iso8601: (e) => new Date(e.time).toISOString(),
  msec: (e) => seconds(e.time),
  request: (e) => `${e.req.method} ${e.req.target} HTTP/${e.req.httpVersion}`,
  request_method: (e) => e.req.method,
  request_uri: (e) => e.req.target,
  uri: (e) => e.req.path,
  args: (e) => e.req.query,
  query_string: (e) => e.req.query,
  server_protocol: (e) => `HTTP/${e.req.httpVersion}`,
  scheme: (e) => e.ctx.scheme,
  host: (e) => e.ctx.host,
  status: (e) => String(e.res.status),
  body_bytes_sent: (e) => String(e.ctx.bodyBytesSent),
  bytes_sent: (e) => String(e.ctx.bytesSent),
  request_length: (e) => dash(e.req.headers['content-length']),
  request_time: (e) => seconds(performance.now() - e.ctx.startedAt),
  upstream_addr: (e) => dash(e.ctx.upstreamAddress),
  upstream_response_time: (e) => upstreamResponseTime(e.ctx),
  request_id: (e) => e.ctx.id,
  route: (e) => dash(e.ctx.route?.name),
  server_timing: (e) => e.ctx.timings.map((t) => (t.dur < 0 ? t.name : `${t.name};dur=${t.dur.toFixed(1)}`)).join(', '),
};

/** A custom format: literal text with `$name` or `${name}` variables; `$http_x_y` is the X-Y request header. */
export function compileFormat(format: string): Formatter {
  const source = NAMED_FORMATS[format] ?? format;
  if (format === 'json') return jsonFormatter;
  const parts: ((e: LogEntry) => string)[] = [];
  const re = /\$\{(\w+)\}|\$(\w+)/g;
  let last = 0;
  for (let m = re.exec(source); m !== null; m = re.exec(source)) {
    const literal = source.slice(last, m.index);
    if (literal) parts.push(() => literal);
    parts.push(variable(m[1] ?? m[2]));
    last = m.index + m[0].length;
  }
  const tail = source.slice(last);
  if (tail) parts.push(() => tail);
  return (e) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) out += parts[i](e);
    return out + '\n';
  };
}

/** Names a format can use; anything else is a config error (checked at load, not per request). */
export function unknownVariables(format: string): string[] {
  if (format === 'json' || NAMED_FORMATS[format] !== undefined) return [];
  const out: string[] = [];
  for (const m of format.matchAll(/\$\{(\w+)\}|\$(\w+)/g)) {
    const name = m[1] ?? m[2];
    if (VARIABLES[name] === undefined && !/^(http|sent_http)_\w+$/.test(name)) out.push(name);
  }
  return out;
}

function variable(name: string): (e: LogEntry) => string {
  const known = VARIABLES[name];
  if (known !== undefined) return known;
  if (name.startsWith('http_')) {
    const header = name.slice(5).replace(/_/g, '-');
    // Quotes and control characters in a client-sent value would let it forge log fields.
    return (e) => escape(dash(e.req.headers[header]));
  }
  if (name.startsWith('sent_http_')) {
    const header = name.slice(10).replace(/_/g, '-');
    return (e) => {
      const v = e.res.headers[header];
      return escape(dash(Array.isArray(v) ? v.join(', ') : v));
    };
  }
  throw new Error(`unknown access log variable $${name}`);
}

/** nginx escapes `"`, `\` and bytes outside printable ASCII as \xHH in log lines. */
function escape(v: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point: they must not reach a log line raw
  return /["\\\x00-\x1f\x7f-\uffff]/.test(v) ? v.replace(/["\\\x00-\x1f\x7f-\uffff]/g, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff ? encodeURIComponent(c).replace(/%/g, '\\x') : '\\x' + code.toString(16).padStart(2, '0').toUpperCase();
  }) : v;
}

function jsonFormatter(e: LogEntry): string {
  return JSON.stringify({
    time: new Date(e.time).toISOString(),
    remote_addr: e.ctx.clientAddress,
    request_id: e.ctx.id,
    method: e.req.method,
    uri: e.req.target,
    protocol: `HTTP/${e.req.httpVersion}`,
    host: e.ctx.host,
    status: e.res.status,
    body_bytes_sent: e.ctx.bodyBytesSent,
    request_time: Number(seconds(performance.now() - e.ctx.startedAt)),
    upstream_addr: e.ctx.upstreamAddress,
    upstream_response_time: upstreamResponseTime(e.ctx) === '-' ? null : Number(upstreamResponseTime(e.ctx)),
    route: e.ctx.route?.name ?? null,
    referer: e.req.headers['referer'] ?? null,
    user_agent: e.req.headers['user-agent'] ?? null,
  }) + '\n';
}
