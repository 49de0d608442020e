// Validation through Standard Schema v1 (https://standardschema.dev): zod, valibot, arktype and
// others expose `~standard.validate`, so the framework depends on none of them.
import { ValidationError, type ValidationIssue } from './errors.ts';
import type { Context } from './context.ts';
import type { Middleware } from './middleware.ts';

/** The Standard Schema v1 interface, as published (types only). */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardIssue> };

export interface StandardIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

export type InferOutput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['output'];

export type ValidationTarget = 'json' | 'form' | 'query' | 'params';

const WHAT: Record<ValidationTarget, string> = {
  json: 'request body',
  form: 'form body',
  query: 'query string',
  params: 'path parameters',
};

/** Validates `value`; resolves to the schema's output or rejects with a 400 ValidationError. */
export async function runSchema<S extends StandardSchemaV1>(
  schema: S,
  value: unknown,
  where = 'input',
): Promise<InferOutput<S>> {
  const result = await schema['~standard'].validate(value);
  if (result.issues === undefined) return result.value as InferOutput<S>;
  throw new ValidationError(where, result.issues.map(toIssue));
}

function toIssue(issue: StandardIssue): ValidationIssue {
  let path = '';
  for (const seg of issue.path ?? []) {
    const key = typeof seg === 'object' && seg !== null ? seg.key : seg;
    path += (path === '' ? '' : '.') + String(key);
  }
  return { path, message: issue.message };
}

/** The key under which `validate()` leaves its output for `c.validated(target)`. */
export function validatedKey(target: ValidationTarget): string {
  return `validated:${target}`;
}

/**
 * Middleware that validates one part of the request and keeps the output for the handler
 * (`c.validated('json')`), Hono's `validator()` habit. Name: `validate(json)` in listings.
 */
export function validate<S extends StandardSchemaV1>(target: ValidationTarget, schema: S): Middleware {
  const key = validatedKey(target);
  const where = WHAT[target];
  const mw: Middleware = async (c, next) => {
    c.set(key, await runSchema(schema, await input(c, target), where));
    return next();
  };
  Object.defineProperty(mw, 'name', { value: `validate(${target})` });
  return mw;
}

async function input(c: Context, target: ValidationTarget): Promise<unknown> {
  switch (target) {
    case 'json': return c.bodyJson();
    case 'form': return toObject(await c.bodyForm());
    case 'query': return toObject(c.query);
    case 'params': return c.params;
  }
}

/** Repeated keys become arrays (`?tag=a&tag=b`), single ones stay as they are. */
function toObject<V>(entries: Iterable<[string, V]>): Record<string, V | V[]> {
  const out: Record<string, V | V[]> = Object.create(null);
  for (const [k, v] of entries) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}
