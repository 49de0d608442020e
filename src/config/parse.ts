// Applies the schema part by part (each listener, pool, app and route on its own) rather than to the
// whole config at once: zod returns no data when anything fails, and the cross-reference checks
// still need every part that did parse, so one bad route does not hide an unknown pool in another.
import type { z } from 'zod';
import { expectation, fromZod, unknownFieldMessage, zodErrorMap, type Issue, type PathSegment } from './issues.ts';
import { isPlainObject, NAME, NAME_EXPECTED, nonEmpty } from './fields.ts';
import { suggest } from './suggest.ts';
import {
  accessLogSchema, adminSchema, appSchema, configSchema, listenerSchema, poolSchema, processesSchema, routeSchema, shutdownTimeoutSchema,
  trustedProxiesSchema, type ParsedAdmin, type ParsedApp, type ParsedListener, type ParsedPool, type ParsedRoute,
} from './schema.ts';

/** A parsed element. `value` is complete unless an issue was raised for it (see parseObject). */
export interface Item<T> {
  readonly index: number;
  readonly value: Partial<T>;
  /** Fields given but invalid: absent from `value`, yet not to be taken as defaulted either. */
  readonly invalid: ReadonlySet<string>;
}

export interface Named<T> {
  /** Every name given, including those whose entry failed to parse: a reference to one is not "unknown". */
  readonly names: readonly string[];
  readonly parsed: ReadonlyMap<string, Partial<T>>;
}

/** What parsed. When no issue was raised, everything is present and complete. */
export interface ParsedParts {
  /** undefined when `listeners` was not given (the default listener applies). */
  readonly listeners: readonly Item<ParsedListener>[] | undefined;
  readonly admin: Partial<ParsedAdmin> | undefined;
  readonly pools: Named<ParsedPool>;
  readonly apps: Named<ParsedApp>;
  readonly routes: readonly Item<ParsedRoute>[];
  readonly trustedProxies: readonly string[] | undefined;
  readonly shutdownTimeout: number | undefined;
  readonly runtimeDir: string | undefined;
  readonly accessLog: z.output<typeof accessLogSchema>;
  readonly processes: number | 'auto' | undefined;
}

type ObjectSchema = z.ZodObject<z.core.$ZodLooseShape, z.core.$catchall<z.ZodType>>;

function parse<S extends z.ZodType>(schema: S, value: unknown, at: readonly PathSegment[], issues: Issue[]): z.output<S> | undefined {
  const result = schema.safeParse(value, { error: zodErrorMap, reportInput: true });
  if (result.success) return result.data;
  issues.push(...fromZod(result.error.issues, at));
  return undefined;
}

/**
 * Parses an object; when it fails, keeps the fields that are valid on their own, so that a typo in
 * one field of a route does not hide that the same route names an unknown pool.
 */
function parseObject<S extends ObjectSchema>(schema: S, value: unknown, at: readonly PathSegment[], issues: Issue[]):
  { value: Partial<z.output<S>>; invalid: Set<string> } | undefined {
  const invalid = new Set<string>();
  const parsed = parse(schema, value, at, issues);
  if (parsed !== undefined) return { value: parsed, invalid };
  if (!isPlainObject(value)) return undefined;
  const partial: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    const result = field.safeParse(value[key]);
    if (!result.success) invalid.add(key);
    else if (result.data !== undefined) partial[key] = result.data;
  }
  return { value: partial as Partial<z.output<S>>, invalid };
}

function parseList<S extends ObjectSchema>(schema: S, value: unknown, key: string, issues: Issue[], what: string): Item<z.output<S>>[] {
  if (!Array.isArray(value)) {
    issues.push({ at: [key], message: expectation(what, value) });
    return [];
  }
  const items: Item<z.output<S>>[] = [];
  value.forEach((element, index) => {
    const parsed = parseObject(schema, element, [key, index], issues);
    if (parsed !== undefined) items.push({ index, ...parsed });
  });
  return items;
}

function parseNamed<S extends ObjectSchema>(schema: S, value: unknown, key: string, issues: Issue[]): Named<z.output<S>> {
  const parsed = new Map<string, Partial<z.output<S>>>();
  if (value === undefined) return { names: [], parsed };
  if (!isPlainObject(value)) {
    issues.push({ at: [key], message: expectation(`an object of ${key} by name`, value) });
    return { names: [], parsed };
  }
  const entries = Object.entries(value);
  for (const [name, entry] of entries) {
    if (!NAME.test(name)) issues.push({ at: [key, name], message: `expected ${NAME_EXPECTED}, got ${JSON.stringify(name)}` });
    const result = parseObject(schema, entry, [key, name], issues);
    if (result !== undefined && NAME.test(name)) parsed.set(name, result.value);
  }
  return { names: entries.map(([name]) => name), parsed };
}

export function parseParts(input: Record<string, unknown>, issues: Issue[]): ParsedParts {
  const known = Object.keys(configSchema.shape);
  const unknownKeys = Object.keys(input).filter((key) => !known.includes(key));
  for (const key of unknownKeys) issues.push({ at: [key], message: unknownFieldMessage(key, known) });

  let routes: Item<ParsedRoute>[] = [];
  if (input.routes !== undefined) routes = parseList(routeSchema, input.routes, 'routes', issues, 'a list of routes');
  // A misspelt `routes` key is reported as such; "routes: missing" would only repeat it.
  else if (!unknownKeys.some((key) => suggest(key, known) === 'routes')) issues.push({ at: ['routes'], message: expectation('a list of routes', undefined) });

  let listeners: Item<ParsedListener>[] | undefined;
  if (input.listeners !== undefined) {
    listeners = parseList(listenerSchema, input.listeners, 'listeners', issues, 'a list of listeners');
    if (Array.isArray(input.listeners) && input.listeners.length === 0) {
      issues.push({ at: ['listeners'], message: 'expected at least one listener, got an empty list (omit "listeners" for the default 127.0.0.1:8080)' });
    }
  }

  return {
    listeners,
    admin: input.admin === undefined ? undefined : parseObject(adminSchema, input.admin, ['admin'], issues)?.value,
    pools: parseNamed(poolSchema, input.pools, 'pools', issues),
    apps: parseNamed(appSchema, input.apps, 'apps', issues),
    routes,
    trustedProxies: parse(trustedProxiesSchema, input.trustedProxies, ['trustedProxies'], issues),
    shutdownTimeout: parse(shutdownTimeoutSchema, input.shutdownTimeout, ['shutdownTimeout'], issues),
    runtimeDir: parse(nonEmpty.optional(), input.runtimeDir, ['runtimeDir'], issues),
    accessLog: parse(accessLogSchema, input.accessLog, ['accessLog'], issues),
    processes: parse(processesSchema, input.processes, ['processes'], issues),
  };
}
