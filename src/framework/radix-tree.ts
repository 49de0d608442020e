// A segment tree for route patterns. Each node is one path segment; static children sit in a Map,
// so a lookup costs one Map probe per segment whatever the number of routes. A node also has at
// most one param child (`:name`) and one wildcard (`*name`), tried in that order when the static
// branch fails: precedence static > param > wildcard, with backtracking so `/a/:x/c` still wins
// over `/a/*` for `/a/b/c` even when a static `/a/b` exists without a `/c` below it.
//
// Param *names* live on the route, not the node: `/users/:id` and `/users/:uid/posts` share one
// param node, and each route maps the positional values to its own names.

/** One method's route at a leaf. */
export interface LeafRoute<T> {
  readonly value: T;
  /** Names for the captured values, in path order (wildcard last). */
  readonly names: readonly string[];
  /** The last name is a wildcard's (decoded differently from a param's). */
  readonly wildcard: boolean;
}

export class Leaf<T> {
  readonly methods = new Map<string, LeafRoute<T>>();
}

export class TreeNode<T> {
  statics: Map<string, TreeNode<T>> | null = null;
  param: TreeNode<T> | null = null;
  /** A wildcard swallows the rest of the path, so it ends a pattern: it is a leaf, not a node. */
  wildcard: Leaf<T> | null = null;
  /** Routes whose pattern ends exactly here. */
  leaf: Leaf<T> | null = null;
}

/** A parsed pattern segment. */
export type Segment =
  | { readonly kind: 'static'; readonly text: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'wildcard'; readonly name: string };

/** Finds (creating as needed) the leaf for a pattern already split into segments. */
export function insert<T>(root: TreeNode<T>, segments: readonly Segment[]): Leaf<T> {
  let node = root;
  for (const seg of segments) {
    if (seg.kind === 'static') {
      node.statics ??= new Map();
      let child = node.statics.get(seg.text);
      if (child === undefined) node.statics.set(seg.text, (child = new TreeNode()));
      node = child;
    } else if (seg.kind === 'param') {
      node = node.param ??= new TreeNode();
    } else {
      return (node.wildcard ??= new Leaf());
    }
  }
  return (node.leaf ??= new Leaf());
}

/**
 * The state of one lookup. `accept` decides whether a leaf answers: it returns the route for the
 * method, or null to keep searching (the collecting pass for 405/OPTIONS always returns null).
 */
export interface Search<T> {
  /** The path as received: param values are cut from it. */
  readonly path: string;
  /** The path static segments are compared with (lowercased when matching ignores case). */
  readonly keyPath: string;
  /** Captured values, pushed and popped as the search backtracks. */
  readonly values: string[];
  accept(leaf: Leaf<T>): LeafRoute<T> | null;
}

/**
 * Depth-first search from `node`, where `start` is the index just after a '/' (the beginning of a
 * possibly empty segment). Returns the first accepted route in precedence order.
 */
export function search<T>(node: TreeNode<T>, start: number, s: Search<T>): LeafRoute<T> | null {
  const path = s.path;
  const len = path.length;
  let end = path.indexOf('/', start);
  if (end === -1) end = len;
  const last = end === len;

  if (node.statics !== null) {
    const child = node.statics.get(s.keyPath.slice(start, end));
    if (child !== undefined) {
      const found = last ? terminal(child, s) : search(child, end + 1, s);
      if (found !== null) return found;
    }
  }
  // A param never matches an empty segment: `/posts/` is not `/posts/:id` with id ''.
  if (node.param !== null && end > start) {
    s.values.push(path.slice(start, end));
    const found = last ? terminal(node.param, s) : search(node.param, end + 1, s);
    if (found !== null) return found;
    s.values.pop();
  }
  if (node.wildcard !== null) {
    const found = s.accept(node.wildcard);
    if (found !== null) {
      s.values.push(path.slice(start));
      return found;
    }
  }
  return null;
}

/** The path ended at `node`: its own routes first, then a wildcard below it matching nothing. */
function terminal<T>(node: TreeNode<T>, s: Search<T>): LeafRoute<T> | null {
  if (node.leaf !== null) {
    const found = s.accept(node.leaf);
    if (found !== null) return found;
  }
  // `/files/*` also answers `/files`, with an empty rest, so a mount needs one route, not two.
  if (node.wildcard !== null) {
    const found = s.accept(node.wildcard);
    if (found !== null) {
      s.values.push('');
      return found;
    }
  }
  return null;
}
