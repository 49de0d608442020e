// `c.params` typed from the route pattern literal, at no runtime cost:
// `/users/:id/files/*path` → { id: string; path: string }, `/posts/:id?` → { id?: string }.
// A pattern that is only known as `string` gets a plain record.

type SegmentParams<S extends string> =
  S extends `:${infer N}?` ? { [K in N]?: string }
  : S extends `:${infer N}` ? { [K in N]: string }
  : S extends `*${infer N}` ? { [K in N extends '' ? '*' : N]: string }
  : Record<never, never>;

type Split<P extends string> =
  P extends `${infer Head}/${infer Tail}` ? SegmentParams<Head> & Split<Tail> : SegmentParams<P>;

type Flatten<T> = { [K in keyof T]: T[K] };

export type PathParams<P extends string> = string extends P ? Record<string, string> : Flatten<Split<P>>;
