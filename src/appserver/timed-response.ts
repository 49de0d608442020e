// A ServerResponse that stamps `Server-Timing: app;dur=<ms>` on the response head, measured from
// the moment node:http parsed the request head (when it constructs the response) to the moment
// the head is written. Done in writeHead because every path ends there: explicit writeHead(),
// the implicit head of write()/end(), flushHeaders(); so fetch and Node listener apps alike.
import http from 'node:http';

type HeaderArg = http.OutgoingHttpHeaders | http.OutgoingHttpHeader[] | undefined;
type WriteHead = (statusCode: number, reason?: string | HeaderArg, headers?: HeaderArg) => http.ServerResponse;

export class TimedResponse<Req extends http.IncomingMessage = http.IncomingMessage> extends http.ServerResponse<Req> {
  readonly startedAt = performance.now();

  // node:http passes (req, options); the rest parameter forwards both.
  constructor(...args: [Req]) {
    super(...args);
    // An own property, not a prototype method: Express re-parents every response onto its own
    // prototype (Object.setPrototypeOf(res, app.response)), which would bypass an override.
    (this as { writeHead: unknown }).writeHead = stampedWriteHead;
  }
}

function stampedWriteHead(this: TimedResponse, statusCode: number, reason?: string | HeaderArg, headers?: HeaderArg): http.ServerResponse {
  // Whatever writeHead the prototype chain has now (node's, or a framework's override).
  const original = (Object.getPrototypeOf(this) as { writeHead: WriteHead }).writeHead;
  // A second writeHead is the app's bug: let node raise its usual error untouched.
  if (this.headersSent) return original.call(this, statusCode, reason, headers);
  if (typeof reason !== 'string') {
    headers = reason;
    reason = undefined;
  }
  // Headers passed to writeHead would replace ours (node setHeader()s them last), so move them
  // into the progressive API first; that is what node does itself once setHeader was used.
  if (headers !== undefined) applyHeaders(this, headers);
  const entry = `app;dur=${(performance.now() - this.startedAt).toFixed(1)}`;
  const prev = this.getHeader('server-timing');
  // One combined field line (RFC 9110 §5.3), so downstream layers append to a single value.
  this.setHeader('server-timing', prev === undefined ? entry : `${Array.isArray(prev) ? prev.join(', ') : String(prev)}, ${entry}`);
  return reason === undefined ? original.call(this, statusCode) : original.call(this, statusCode, reason);
}

function applyHeaders(res: http.ServerResponse, headers: http.OutgoingHttpHeaders | http.OutgoingHttpHeader[]): void {
  if (!Array.isArray(headers)) {
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (value !== undefined) res.setHeader(name, value);
    }
    return;
  }
  // Same two array shapes node's writeHead accepts: [[name, value], …] or [name, value, …].
  if (Array.isArray(headers[0])) {
    for (const pair of headers as unknown as [string, string | string[]][]) res.appendHeader(pair[0], pair[1]);
    return;
  }
  for (let i = 0; i + 1 < headers.length; i += 2) res.appendHeader(String(headers[i]), headers[i + 1] as string | string[]);
}
