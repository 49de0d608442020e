// An app run inside the data-plane process (`apps.<name>.mode: 'in-process'`): the stack imports
// the module itself and a route calls its `fetch` directly, with no socket hop. The price is
// isolation: the app shares the process, its event loop and its memory with the data plane
// (README, "in-process apps"). Reload re-imports the module under a new URL, so new code takes
// effect while requests already inside the old module finish there.
import { pathToFileURL } from 'node:url';
import type { FetchApp } from '../fetch-bridge.ts';

export type FetchFn = (request: Request) => Response | Promise<Response>;

export interface InProcessStatus {
  mode: 'in-process';
  module: string;
  /** 1 at start, +1 per successful reload. */
  generation: number;
  /** Seconds since the current generation was imported. */
  uptime: number;
  /** Calls to the app's fetch, every generation. */
  requests: number;
  /** Requests whose response head the app has not given yet. */
  waiting: number;
}

export class InProcessApp {
  readonly name: string;
  readonly module: string;
  #fetch: FetchFn;
  #generation = 1;
  #loadedAt = Date.now();
  requests = 0;
  waiting = 0;

  private constructor(name: string, module: string, fetch: FetchFn) {
    this.name = name;
    this.module = module;
    this.#fetch = fetch;
  }

  /** Imports the module; throws what the import threw, or why its export is not a fetch app. */
  static async load(name: string, module: string): Promise<InProcessApp> {
    return new InProcessApp(name, module, await importFetch(module, 0));
  }

  /** The current generation's fetch: a request keeps the one it started with. */
  get fetch(): FetchFn {
    return this.#fetch;
  }

  get generation(): number {
    return this.#generation;
  }

  /**
   * Imports the module again under a new URL (ESM caches by URL, so the same one would give the
   * old code back) without swapping it in yet: a module that fails to import throws here and the
   * old one keeps serving. Only the module itself is evaluated anew: what it imports stays as
   * first loaded.
   */
  importNext(): Promise<FetchFn> {
    return importFetch(this.module, this.#generation);
  }

  /** Serves new requests with `fetch`; requests already inside the old one finish there. */
  swap(fetch: FetchFn): void {
    this.#fetch = fetch;
    this.#generation++;
    this.#loadedAt = Date.now();
  }

  status(): InProcessStatus {
    return {
      mode: 'in-process', module: this.module, generation: this.#generation,
      uptime: Math.round((Date.now() - this.#loadedAt) / 100) / 10, requests: this.requests, waiting: this.waiting,
    };
  }
}

async function importFetch(module: string, reloads: number): Promise<FetchFn> {
  const url = pathToFileURL(module).href + (reloads === 0 ? '' : `?portico-reload=${reloads}-${Date.now()}`);
  const mod = (await import(url)) as { default?: unknown };
  const exported = mod.default;
  if (typeof exported === 'object' && exported !== null && typeof (exported as FetchApp).fetch === 'function') {
    const app = exported as FetchApp;
    return (request) => app.fetch(request);
  }
  if (typeof exported === 'function') {
    throw new TypeError(`mode 'in-process' runs \`export default { fetch(request) }\` apps; a (req, res) listener needs mode 'workers' (node:http in a worker process)`);
  }
  throw new TypeError(`the app module must \`export default { fetch(request) }\`, but its default export is ${exported === undefined ? 'missing' : typeof exported}`);
}
