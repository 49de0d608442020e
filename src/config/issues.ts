// Config issues: one per mistake, each naming the exact field (`routes[2].upstream`), the bad value and
// what was expected. Zod's issues are turned into these here so every message reads the same way.
import type { z } from 'zod';
import { suggest } from './suggest.ts';

/** One mistake in the config: `path` is rendered like `pools.web.servers[0].url`. */
export interface ConfigIssue {
  path: string;
  message: string;
}

export type PathSegment = string | number;

/** An issue before its path is rendered; the segments are kept so issues can be sorted in document order. */
export interface Issue {
  at: readonly PathSegment[];
  message: string;
}

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

export function formatPath(at: readonly PathSegment[]): string {
  let out = '';
  for (const segment of at) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '(config)' : out;
}

/** A value as it should appear in a message: strings quoted, long ones cut, containers by kind. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'function') return 'a function';
  return `a ${typeof value}`;
}

/** "expected X, got Y", or "missing: expected X" when the field is absent. */
export function expectation(expected: string, input: unknown): string {
  return input === undefined ? `missing: expected ${expected}` : `expected ${expected}, got ${show(input)}`;
}

export function unknownFieldMessage(key: PathSegment | undefined, known: readonly string[]): string {
  const guess = typeof key === 'string' ? suggest(key, known) : undefined;
  return guess === undefined ? `unknown field (known: ${known.join(', ')})` : `unknown field (did you mean "${guess}"?)`;
}

/** Marks the issue raised for an unknown key, so a "missing" issue for the key it was meant to be can be dropped. */
export const UNKNOWN_FIELD = 'portico.unknownField';

const TYPE_NAMES: Record<string, string> = {
  object: 'an object', array: 'a list', string: 'a string', number: 'a number', int: 'an integer',
  boolean: 'true or false', record: 'an object',
};

/**
 * Messages for the issues zod raises itself (types, sizes, literals). Fields with a domain meaning
 * (ports, durations, URLs…) carry their own message; this covers the structural rest.
 */
export function zodErrorMap(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return expectation(TYPE_NAMES[issue.expected] ?? issue.expected, issue.input);
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = small ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum;
      const inclusive = (issue as { inclusive?: boolean }).inclusive !== false;
      if (issue.origin === 'array') return `expected ${small ? 'at least' : 'at most'} ${bound} item(s), got ${(issue.input as unknown[]).length}`;
      if (issue.origin === 'string') return `expected ${small ? 'at least' : 'at most'} ${bound} character(s), got ${show(issue.input)}`;
      const op = small ? (inclusive ? '≥' : '>') : (inclusive ? '≤' : '<');
      return `expected a number ${op} ${bound}, got ${show(issue.input)}`;
    }
    case 'invalid_value':
      return `expected ${issue.values.map((v) => show(v)).join(' or ')}, got ${show(issue.input)}`;
    default:
      return undefined;
  }
}

/**
 * Zod issues → config issues under `base`. An unknown key that looks like a typo of a field
 * also makes that field "missing"; only the typo is reported, since fixing it fixes both.
 */
export function fromZod(issues: readonly z.core.$ZodIssue[], base: readonly PathSegment[]): Issue[] {
  const meant = new Set<string>();
  for (const issue of issues) {
    const params = issue.code === 'custom' ? issue.params : undefined;
    const key = issue.path.at(-1);
    if (params?.[UNKNOWN_FIELD] && typeof key === 'string') {
      const guess = suggest(key, params.known as string[]);
      if (guess !== undefined) meant.add(JSON.stringify([...issue.path.slice(0, -1), guess]));
    }
  }
  return issues
    .filter((issue) => !(issue.input === undefined && meant.has(JSON.stringify(issue.path))))
    .map((issue) => ({ at: [...base, ...(issue.path as PathSegment[])], message: issue.message }));
}

/** Issues in the order the user wrote the config: by top-level key, then by list index or record key. */
export function sortIssues(issues: readonly Issue[], input: Record<string, unknown>): Issue[] {
  const topKeys = Object.keys(input);
  const rank = (issue: Issue): [number, number] => {
    const [top, entry] = issue.at;
    const topRank = typeof top === 'string' && topKeys.includes(top) ? topKeys.indexOf(top) : topKeys.length;
    if (typeof entry === 'number') return [topRank, entry];
    const container = typeof top === 'string' ? input[top] : undefined;
    const entryKeys = container !== null && typeof container === 'object' ? Object.keys(container) : [];
    return [topRank, typeof entry === 'string' && entryKeys.includes(entry) ? entryKeys.indexOf(entry) : -1];
  };
  return issues
    .map((issue, order) => ({ issue, order, key: rank(issue) }))
    .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.order - b.order)
    .map(({ issue }) => issue);
}

export function toConfigIssues(issues: readonly Issue[]): ConfigIssue[] {
  return issues.map((issue) => ({ path: formatPath(issue.at), message: issue.message }));
}
