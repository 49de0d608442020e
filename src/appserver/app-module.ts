// Turns an app module's default export into the one node:http listener a worker serves:
// `export default { fetch(request) }` (the web standard: Hono, hand-written) goes through the
// fetch bridge; `export default (req, res) => …` (Express 5, any Node listener) runs as is.
import { pathToFileURL } from 'node:url';
import { type AppErrorReporter, type FetchApp, type NodeListener, createFetchListener, sendServerError } from './fetch-bridge.ts';

export type AppKind = 'fetch' | 'node';

export interface LoadedApp {
  kind: AppKind;
  listener: NodeListener;
}

/** Imports the module once and classifies its default export; throws what the import threw. */
export async function loadApp(modulePath: string, onError: AppErrorReporter): Promise<LoadedApp> {
  const mod = (await import(pathToFileURL(modulePath).href)) as { default?: unknown };
  return toListener(mod.default, onError);
}

export function toListener(exported: unknown, onError: AppErrorReporter): LoadedApp {
  if (typeof exported === 'function') return { kind: 'node', listener: guardNodeListener(exported as NodeListener, onError) };
  if (typeof exported === 'object' && exported !== null && typeof (exported as FetchApp).fetch === 'function') {
    return { kind: 'fetch', listener: createFetchListener(exported as FetchApp, onError) };
  }
  throw new TypeError(
    `the app module must \`export default { fetch(request) }\` or \`export default (req, res) => …\`, but its default export is ${
      exported === undefined ? 'missing' : typeof exported
    }`,
  );
}

/**
 * Express catches its own errors, but a bare listener that throws (or returns a rejected promise)
 * would otherwise crash the worker and every request on it: answer this one 500 instead.
 */
function guardNodeListener(listener: NodeListener, onError: AppErrorReporter): NodeListener {
  return (req, res) => {
    try {
      const result = listener(req, res);
      if (result instanceof Promise) result.catch((err: unknown) => sendServerError(req, res, err, onError));
    } catch (err) {
      sendServerError(req, res, err, onError);
    }
  };
}
