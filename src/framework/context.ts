// The per-request object handlers see. Everything not every request needs (query parsing, the
// request id, the value map, the body) is made on first use, so a plain `GET → c.json()` costs
// this object and its response.
import { isAcceptableRequestId, newRequestId } from '../http/context.ts';
import { FORM_TYPES, isJsonType, mediaType, parseForm, parseJson, readLimited, requireType, tooLarge } from './body.ts';
import { runSchema, validatedKey, type InferOutput, type StandardSchemaV1, type ValidationTarget } from './validate.ts';
import type { PathParams } from './path-params.ts';

/** What a context needs from its app; one object per app, shared by all requests. */
export interface ContextRuntime {
  readonly bodyLimit: number;
  notFound(c: Context): Response | Promise<Response>;
}

export interface BodyOptions {
  /** Bytes; default: the app's `bodyLimit` (1 MiB). */
  limit?: number;
}

export type HeaderRecord = Record<string, string>;
export type RedirectStatus = 301 | 302 | 303 | 307 | 308;

// Header inits shared by every response without extra headers: a Response copies its init.
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
const TEXT_TYPE = { 'content-type': 'text/plain; charset=utf-8' };
const HTML_TYPE = { 'content-type': 'text/html; charset=utf-8' };

export class Context<P extends string = any> {
  readonly req: Request;
  /** The path, percent-encoded as received. */
  readonly path: string;
  params: PathParams<P>;
  /** The pattern of the matched route (`/products/:id`), null when none matched. */
  routePath: string | null = null;
  /** The response so far; set by the chain as it unwinds, changeable by middleware. */
  res: Response | undefined = undefined;

  readonly #runtime: ContextRuntime;
  /** Index of '?' in req.url, or -1. */
  readonly #queryAt: number;
  #query: URLSearchParams | undefined = undefined;
  #requestId: string | undefined = undefined;
  #vars: Map<string, unknown> | undefined = undefined;
  #bytes: Promise<Uint8Array<ArrayBuffer>> | undefined = undefined;

  constructor(req: Request, path: string, queryAt: number, runtime: ContextRuntime) {
    this.req = req;
    this.path = path;
    this.#queryAt = queryAt;
    this.#runtime = runtime;
    this.params = EMPTY as PathParams<P>;
  }

  get query(): URLSearchParams {
    return (this.#query ??= new URLSearchParams(this.search));
  }

  /** The raw query with its '?', or '' (for rebuilding a URL without re-encoding it). */
  get search(): string {
    if (this.#queryAt === -1) return '';
    const url = this.req.url;
    const end = url.indexOf('#', this.#queryAt);
    return url.slice(this.#queryAt, end === -1 ? url.length : end);
  }

  /** A request header, or undefined. */
  header(name: string): string | undefined {
    return this.req.headers.get(name) ?? undefined;
  }

  /** From `X-Request-Id` when it is a sane token (the edge sets it for trusted peers), else new. */
  get requestId(): string {
    if (this.#requestId === undefined) {
      const sent = this.req.headers.get('x-request-id') ?? undefined;
      this.#requestId = isAcceptableRequestId(sent) ? sent : newRequestId();
    }
    return this.#requestId;
  }

  set(key: string, value: unknown): void {
    (this.#vars ??= new Map()).set(key, value);
  }

  get<T = unknown>(key: string): T | undefined {
    return this.#vars?.get(key) as T | undefined;
  }

  // ── responses ──────────────────────────────────────────────────────────────

  json(data: unknown, status = 200, headers?: HeaderRecord): Response {
    return respond(JSON.stringify(data), status, JSON_TYPE, headers);
  }

  text(text: string, status = 200, headers?: HeaderRecord): Response {
    return respond(text, status, TEXT_TYPE, headers);
  }

  html(html: string, status = 200, headers?: HeaderRecord): Response {
    return respond(html, status, HTML_TYPE, headers);
  }

  redirect(location: string, status: RedirectStatus = 302): Response {
    return new Response(null, { status, headers: { location } });
  }

  body(body: BodyInit | null, init?: ResponseInit): Response {
    return new Response(body, init);
  }

  /** The app's not-found answer (its `notFound` override, if any). */
  notFound(): Response | Promise<Response> {
    return this.#runtime.notFound(this);
  }

  // ── request body ───────────────────────────────────────────────────────────

  /**
   * The raw body, capped. Read once and kept, so a validator and the handler can both parse
   * it; the first read's limit governs the stream, later calls check the kept size.
   */
  async bodyBytes(options?: BodyOptions): Promise<Uint8Array<ArrayBuffer>> {
    const limit = options?.limit ?? this.#runtime.bodyLimit;
    this.#bytes ??= readLimited(this.req, limit);
    const bytes = await this.#bytes;
    if (bytes.byteLength > limit) throw tooLarge(limit, `the body is ${bytes.byteLength} bytes`);
    return bytes;
  }

  /** 415 unless the body is JSON, 413 past the limit, 400 with the parser's reason if malformed. */
  async bodyJson<T = unknown>(options?: BodyOptions): Promise<T> {
    requireType(this.req, isJsonType(mediaType(this.req)), 'JSON');
    return parseJson(await this.bodyBytes(options)) as T;
  }

  /** urlencoded or multipart; 415 otherwise, 413 past the limit. */
  async bodyForm(options?: BodyOptions): Promise<FormData> {
    requireType(this.req, FORM_TYPES.includes(mediaType(this.req)), 'form');
    return parseForm(await this.bodyBytes(options), this.req.headers.get('content-type')!);
  }

  // ── validation ─────────────────────────────────────────────────────────────

  /** Validates any value with a Standard Schema; 400 naming each failing field. */
  valid<S extends StandardSchemaV1>(schema: S, value: unknown, where?: string): Promise<InferOutput<S>> {
    return runSchema(schema, value, where);
  }

  /** The output of this route's `validate(target, schema)` middleware. */
  validated<T = unknown>(target: ValidationTarget): T {
    const key = validatedKey(target);
    if (this.#vars === undefined || !this.#vars.has(key)) {
      throw new Error(`c.validated('${target}'): no validate('${target}', schema) middleware ran on this route`);
    }
    return this.#vars.get(key) as T;
  }
}

const EMPTY = Object.freeze(Object.create(null));

function respond(body: string, status: number, type: HeaderRecord, headers: HeaderRecord | undefined): Response {
  if (headers === undefined) return new Response(body, { status, headers: type });
  const h = new Headers(headers);
  if (!h.has('content-type')) h.set('content-type', type['content-type']);
  return new Response(body, { status, headers: h });
}
