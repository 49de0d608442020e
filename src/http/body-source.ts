// What a WHATWG Response was made from, for Portico's own readers of Portico's own responses.
// `new Response('hello')` wraps its string in a web ReadableStream, and reading that back costs
// a reader, a promise per chunk and a turn of the event loop; the framework's response helpers
// leave the string on the Response under this key, so the in-process app path and the workers'
// fetch bridge can take it as it is. Symbol.for, so it holds across module copies (a reloaded app
// imports its own framework copy).
//
// The source is the body only while the body is untouched: whoever reads, tees or locks it
// (a middleware reading `c.res.text()`, `res.clone()`) makes the stream the truth again, so a
// reader checks `usableSource()` rather than the key alone.
export const BODY_SOURCE = Symbol.for('portico.body-source');

interface WithSource {
  [BODY_SOURCE]?: string;
}

/** Marks `res` as made from `body` (a string); returns `res`. */
export function withBodySource(res: Response, body: string): Response {
  (res as Response & WithSource)[BODY_SOURCE] = body;
  return res;
}

/** The string `res` was made from, if it still is its whole body unread; else undefined. */
export function usableSource(res: Response): string | undefined {
  const source = (res as Response & WithSource)[BODY_SOURCE];
  if (source === undefined || res.bodyUsed) return undefined;
  const stream = res.body;
  return stream !== null && !stream.locked ? source : undefined;
}
