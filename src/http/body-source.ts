// How the data plane takes a framework response without reading it back. `new Response('hello')`
// wraps its string in a web ReadableStream, and reading that back costs a reader, a promise per
// chunk and a turn of the event loop. The framework's `c.text()`, `c.json()` and `c.html()` answer
// with a lazy Response (src/framework/lazy-response.ts) that gives its status, fields and string
// to whoever calls `takeWhole()`: the in-process app path (src/appserver/in-process). Workers need
// none of it: their fetch bridge installs @hono/node-server's lightweight Response, which the
// framework then makes instead. Symbol.for, so it holds across module copies.
export const WHOLE = Symbol.for('portico.whole-response');

export interface WholeBody {
  status: number;
  /** A plain record has lowercase names and values the framework made (valid, no framing fields). */
  headers: Headers | Readonly<Record<string, string>>;
  body: string;
}

interface Takeable {
  [WHOLE]?: () => WholeBody | undefined;
}

/**
 * The response's status, fields and whole body, if it is a framework response nobody has read:
 * taking it counts as reading its body (it is used afterwards). Undefined for any other response.
 */
export function takeWhole(res: Response): WholeBody | undefined {
  const take = (res as Response & Takeable)[WHOLE];
  return typeof take === 'function' ? take.call(res) : undefined;
}
