// The per-request object handlers see. Everything not every request needs (query parsing, the
// request id, the value map, the body) is made on first use, so a plain `GET → c.json()` costs
// this object and its response.
import { isAcceptableRequestId, newRequestId } from '../http/context.ts';
import { lazyResponse, canBeLazy } from './lazy-response.ts';
import { MULTIPART_TOTAL_DEFAULT, parseMultipart, type MultipartBody, type MultipartLimits } from './multipart.ts';
import { checkDeclaredLength, FORM_TYPES, isJsonType, mediaType, parseForm, parseJson, readLimited, requireType, tooLarge } from './body.ts';
import { runSchema, validatedKey, type InferOutput, type StandardSchemaV1, type ValidationTarget } from './validate.ts';
import type { PathParams } from './path-params.ts';
import { parseCookies, serializeCookie, type CookieOptions } from './cookie.ts';
import type { CookieSigner } from './signed-cookie.ts';
import type { Session } from './session.ts';

/** What a context needs from its app; one object per app, shared by all requests. */
export interface ContextRuntime {
  readonly bodyLimit: number;
  /** From the app's `secrets`; null when none were given (signed cookies then throw). */
  readonly signer: CookieSigner | null;
  notFound(c: Context): Response | Promise<Response>;
}

export interface BodyOptions {
  /** Bytes; default: the app's `bodyLimit` (1 MiB). */
  limit?: number;
}

/** `performance.now()` stamps around the handler; -1 until it runs. */
export interface HandlerTiming {
  handlerStart: number;
  handlerEnd: number;
}

export type HeaderRecord = Record<string, string>;
export type RedirectStatus = 301 | 302 | 303 | 307 | 308;

// Header inits shared by every response without extra headers: a Response copies its init.
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
// text/plain as Fetch spells a string body's default type.
const TEXT_TYPE = { 'content-type': 'text/plain;charset=UTF-8' };
const HTML_TYPE = { 'content-type': 'text/html; charset=utf-8' };

export class Context<P extends string = any> {
  #req: Request;
  /** The path, percent-encoded as received. */
  readonly path: string;
  params: PathParams<P>;
  /** The pattern of the matched route (`/products/:id`), null when none matched. */
  routePath: string | null = null;
  /** The response so far; set by the chain as it unwinds, changeable by middleware. */
  res: Response | undefined = undefined;
  /** Set by the `timing()` middleware; the chain runner stamps the handler's start and end in it. */
  timing: HandlerTiming | undefined = undefined;

  readonly #runtime: ContextRuntime;
  /** Index of '?' in req.url, or -1. */
  readonly #queryAt: number;
  #query: URLSearchParams | undefined = undefined;
  #requestId: string | undefined = undefined;
  #vars: Map<string, unknown> | undefined = undefined;
  #bytes: Promise<Uint8Array<ArrayBuffer>> | undefined = undefined;
  #cookies: Record<string, string> | undefined = undefined;
  /** Set-Cookie values to add to whatever response the chain ends with. */
  #setCookies: string[] | undefined = undefined;

  constructor(req: Request, path: string, queryAt: number, runtime: ContextRuntime) {
    this.#req = req;
    this.path = path;
    this.#queryAt = queryAt;
    this.#runtime = runtime;
    this.params = EMPTY as PathParams<P>;
  }

  get req(): Request {
    return this.#req;
  }

  /**
   * For middleware that wraps the request body (bodyLimit): later readers see the new request.
   * Refused once the framework has read the body, since the kept bytes would not match.
   */
  replaceRequest(req: Request): void {
    if (this.#bytes !== undefined) throw new Error('c.replaceRequest(): the body was already read');
    this.#req = req;
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

  // ── cookies ────────────────────────────────────────────────────────────────

  /** A request cookie's value (percent-decoded), or undefined. */
  cookie(name: string): string | undefined {
    return (this.#cookies ??= parseCookies(this.req.headers.get('cookie')))[name];
  }

  /** All request cookies. */
  cookies(): Readonly<Record<string, string>> {
    return (this.#cookies ??= parseCookies(this.req.headers.get('cookie')));
  }

  /**
   * Adds a `Set-Cookie` to the response, whichever response the chain ends with (so it can be
   * called before the response exists, or by middleware after `next()`). Path defaults to '/'.
   */
  setCookie(name: string, value: string, options?: CookieOptions): void {
    (this.#setCookies ??= []).push(serializeCookie(name, value, options));
  }

  /** Expires the cookie now; give the same path and domain it was set with. */
  deleteCookie(name: string, options?: Pick<CookieOptions, 'path' | 'domain' | 'secure' | 'httpOnly' | 'sameSite'>): void {
    this.setCookie(name, '', { ...options, maxAge: 0, expires: new Date(0) });
  }

  /** The value of a cookie signed with any of the app's `secrets`; undefined if absent or forged. */
  signedCookie(name: string): string | undefined {
    const raw = this.cookie(name);
    if (raw === undefined) return undefined;
    return this.#signer('signedCookie').unsign(name, raw) ?? undefined;
  }

  /** Sets a cookie signed with the newest of the app's `secrets`. */
  setSignedCookie(name: string, value: string, options?: CookieOptions): void {
    this.setCookie(name, this.#signer('setSignedCookie').sign(name, value), options);
  }

  #signer(what: string): CookieSigner {
    const s = this.#runtime.signer;
    if (s === null) throw new Error(`c.${what}(): createApp({ secrets }) is required for signed cookies`);
    return s;
  }

  /** The session; needs the `session()` middleware on this route. */
  get session(): Session {
    const s = this.get<Session>(SESSION_KEY);
    if (s === undefined) throw new Error('c.session: no session() middleware ran on this route');
    return s;
  }

  /**
   * Internal: adds the pending Set-Cookie headers to the final response. Each is appended as a
   * field of its own: Set-Cookie must never be folded into one line (RFC 9110 §5.3).
   */
  commitCookies(res: Response): Response {
    const list = this.#setCookies;
    if (list === undefined) return res;
    this.#setCookies = undefined;
    let out = res;
    try {
      for (const v of list) out.headers.append('set-cookie', v);
    } catch {
      // Immutable headers (Response.redirect(), a fetch() response): copy, then append.
      out = new Response(res.body, { status: res.status, statusText: res.statusText, headers: new Headers(res.headers) });
      for (const v of list) out.headers.append('set-cookie', v);
    }
    return out;
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

  /**
   * multipart/form-data, streamed through the parser with limits checked as bytes arrive: 415 for
   * another type, 413 past a size or count limit, 400 when malformed. Files come back buffered,
   * each up to `limits.fileSize` (see multipart.ts).
   */
  async bodyMultipart(limits?: MultipartLimits): Promise<MultipartBody> {
    requireType(this.req, mediaType(this.req) === 'multipart/form-data', 'multipart/form-data');
    const contentType = this.req.headers.get('content-type')!;
    // Already read (say by a validator): parse the kept bytes, whose read was capped by bodyLimit.
    if (this.#bytes !== undefined) return parseMultipart(contentType, await this.#bytes, limits);
    checkDeclaredLength(this.req, limits?.totalSize ?? MULTIPART_TOTAL_DEFAULT);
    if (this.req.bodyUsed) throw new Error('the request body was already read outside the framework');
    return parseMultipart(contentType, this.req.body, limits);
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

/** Where `session()` leaves the request's session for `c.session`. */
export const SESSION_KEY = 'portico.session';

const EMPTY = Object.freeze(Object.create(null));

/**
 * A lazy Response (lazy-response.ts) wherever the native constructor would accept the same
 * arguments; otherwise the native one, which throws what it throws (a 204 with content, a status
 * out of range). User fields go through Headers now, so a bad one throws here, as natively.
 */
function respond(body: string, status: number, type: HeaderRecord, headers: HeaderRecord | undefined): Response {
  let h: Headers | undefined;
  if (headers !== undefined) {
    h = new Headers(headers);
    if (!h.has('content-type')) h.set('content-type', type['content-type']);
  }
  // JSON.stringify(undefined) is undefined: no body, as `new Response(undefined)`.
  if (typeof body === 'string' && canBeLazy(status)) return lazyResponse(body, status, type, h);
  return new Response(body, { status, headers: h ?? type });
}
