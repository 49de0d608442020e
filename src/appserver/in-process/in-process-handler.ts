// The route handler for an in-process app: PorticoRequest → the app's fetch → PorticoResponse,
// with the app server's failure answers where they make sense in one process. The app sees what a
// worker would: the same target (prefix stripped when the route says so), the same forwarded
// headers and request id (src/proxy/request-headers.ts), an `http://` URL built from Host.
import type { Handler, PorticoRequest, PorticoResponse } from '../../http/types.ts';
import type { RequestContext } from '../../http/context.ts';
import { GatewayTimeoutError, HttpError } from '../../http/errors.ts';
import { errorResponse } from '../../http/error-response.ts';
import type { Log } from '../../observability/logger.ts';
import { upstreamRequestHeaders } from '../../proxy/request-headers.ts';
import type { InProcessApp } from './in-process-app.ts';
import { lazyRequest } from './lazy-request.ts';
import { toPorticoResponse, takeWholeResponse } from './response-body.ts';

export interface InProcessOptions {
  stripPrefix: boolean;
  /** ms: the deadline for the response head, and the longest pause between body chunks. */
  timeout: number;
  log: Log;
}

class AppTimeout extends Error {}

export function inProcessHandler(app: InProcessApp, options: InProcessOptions): Handler {
  const { stripPrefix, timeout, log } = options;
  return (req, ctx) => {
    let path = req.target;
    if (stripPrefix && ctx.route !== null && ctx.route.prefix !== '/') {
      path = path.slice(ctx.route.prefix.length);
      if (path === '' || path[0] !== '/') path = '/' + path;
    }
    const headers = upstreamRequestHeaders(req.headers, ctx);
    // The app's signal: aborted when the client goes away (ctx) or the deadline passes. Made only
    // if the app reads it, so a handler that never looks costs no AbortController.
    let controller: AbortController | null = null;
    let timedOut: Error | null = null;
    const signal = (): AbortSignal => {
      if (controller === null) {
        controller = new AbortController();
        const c = controller;
        if (timedOut !== null) c.abort(timedOut);
        const client = ctx.signal;
        if (client.aborted) c.abort(client.reason);
        else client.addEventListener('abort', () => c.abort(client.reason), { once: true });
      }
      return controller.signal;
    };
    // A body error the route raised (413 past maxBodySize) is the answer, whatever the app made of it.
    let bodyError: unknown = null;
    req.body?.once('error', (err) => (bodyError = err));
    const request = lazyRequest({ method: req.method, url: `http://${headers['host'] || 'localhost'}${path}`, headers, body: req.body, signal });
    const slot = ctx.startTiming('app');
    const failed = (err: unknown): PorticoResponse => {
      ctx.endTiming(slot);
      if (bodyError instanceof HttpError) throw bodyError;
      if (err instanceof AppTimeout) {
        timedOut = new GatewayTimeoutError('the app did not answer in time', 'APP_TIMEOUT');
        (controller as AbortController | null)?.abort(timedOut);
        throw new GatewayTimeoutError(`app "${app.name}" gave no response within ${timeout} ms (workerTimeout)`, 'APP_TIMEOUT');
      }
      // The client left and the app gave up on its aborted signal: nginx's 499, not an app failure.
      if (ctx.aborted) throw new HttpError(499, 'CLIENT_CLOSED_REQUEST', 'client closed the request', { cause: err });
      // The workers' answer: 500 naming the request id; the error (and its stack) only in the log.
      log('error', `app "${app.name}" failed`, { requestId: ctx.id, method: req.method, path, err });
      return errorResponse(new HttpError(500, 'APP_ERROR', 'the app failed', { expose: false }), req.headers, ctx);
    };
    const answer = (response: unknown): PorticoResponse | Promise<PorticoResponse> => {
      if (!(response instanceof Response)) return failed(new TypeError(`fetch() returned ${describe(response)} instead of a Response`));
      // The framework's c.text()/c.json(): the body is at hand, so a synchronous handler's answer
      // goes out in this same turn, with no stream read back and no promise.
      const whole = takeWholeResponse(response);
      if (whole !== null) {
        ctx.endTiming(slot);
        return whole;
      }
      return toPorticoResponse(response, { idleTimeout: timeout, onError: (err) => bodyFailed(app, log, ctx, req, err) }).then((out) => {
        ctx.endTiming(slot);
        return out;
      }, failed);
    };
    app.requests++;
    let result: Response | Promise<Response>;
    try {
      result = app.fetch(request);
    } catch (err) {
      return failed(err);
    }
    if (!(result instanceof Promise)) return answer(result);
    app.waiting++;
    return withDeadline(result, timeout).then((r) => {
      app.waiting--;
      return answer(r);
    }, (err: unknown) => {
      app.waiting--;
      return failed(err);
    });
  };
}

/** The app's promise, or an AppTimeout once `ms` pass; a later settlement is absorbed (never unhandled). */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new AppTimeout()), ms);
    p.then((v) => {
      clearTimeout(timer);
      resolve(v);
    }, (err: unknown) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function bodyFailed(app: InProcessApp, log: Log, ctx: RequestContext, req: PorticoRequest, err: unknown): void {
  log('error', `app "${app.name}" failed mid-body: cutting the connection`, { requestId: ctx.id, method: req.method, path: req.path, err });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return typeof value;
}
