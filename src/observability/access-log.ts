// Access log lines in the seeds' nginx format: `[$time_local] $host to: $upstream_addr: $request $status`,
// extended with the request id and duration so a line can be matched with an error body.
import type { PorticoRequest, PorticoResponse } from '../http/types.ts';
import type { RequestContext } from '../http/context.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** nginx's $time_local: `23/Nov/2026:19:16:51 +0000`. */
export function timeLocal(d: Date): string {
  const p = (n: number) => (n < 10 ? '0' + n : String(n));
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return `${p(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${sign}${p(Math.floor(a / 60))}${p(a % 60)}`;
}

export function accessLogLine(req: PorticoRequest, res: PorticoResponse, ctx: RequestContext): string {
  const ms = (performance.now() - ctx.startedAt).toFixed(1);
  return `[${timeLocal(new Date())}] ${ctx.host} to: ${ctx.upstreamAddress ?? '-'}: ${req.method} ${req.target} HTTP/${req.httpVersion} ${res.status} ${ms}ms ${ctx.clientAddress} ${ctx.id}\n`;
}
