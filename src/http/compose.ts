import type { Handler, Layer } from './types.ts';

/**
 * Builds the chain once: layers[0] is outermost (sees the request first, the response last).
 * The result is a plain nesting of closures, so a pass-through layer costs one call.
 */
export function compose(layers: readonly Layer[], terminal: Handler): Handler {
  let handler = terminal;
  for (let i = layers.length - 1; i >= 0; i--) handler = layers[i].wrap(handler);
  return handler;
}

/** A layer from a name and a wrap function, for the common case. */
export function layer(name: string, wrap: (next: Handler) => Handler, describe?: string): Layer {
  return { name, wrap, describe };
}
