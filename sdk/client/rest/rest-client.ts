import type { RestConfig } from '../config/types.js';
import type { GroupVersion, KubeObject, Status } from '../meta/types.js';
import {
  transportFor,
  type HttpMethod,
  type HttpRequest,
  type HttpResponse,
  type Transport,
} from '../transport/transport.js';
import type { Watch } from './resource-interface.js';
import { streamLines, watchStream } from './watch.js';
import { ApiError, ArgumentError, ResponseDecodeError, type RequestInfo } from '../errors.js';

export interface RestClientOptions {
  groupVersion: GroupVersion;
  /** `/api` for the core group, `/apis` for the others. Default: chosen by the group. */
  apiPath?: string;
}

/** Per-call options of `do()`, `stream()` and `watch()`. */
export interface DoOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

type ParamValue = string | number | boolean | undefined | readonly string[];

/**
 * A RESTClient for one group-version, like client-go's rest.RESTClient: a fluent request builder over kubeloop's
 * transport. `rc.get().namespace('ns').resource('pods').name('p').do().into<Pod>()`.
 */
export class RestClient {
  readonly transport: Transport;
  readonly basePath: string;

  constructor(config: RestConfig, options: RestClientOptions) {
    this.transport = transportFor(config);
    const { group, version } = options.groupVersion;
    const apiPath = options.apiPath ?? (group ? '/apis' : '/api');
    this.basePath = group ? `${apiPath}/${group}/${version}` : `${apiPath}/${version}`;
  }

  verb(method: HttpMethod): Request {
    return new Request(this.transport, method, this.basePath);
  }
  get(): Request {
    return this.verb('GET');
  }
  post(): Request {
    return this.verb('POST');
  }
  put(): Request {
    return this.verb('PUT');
  }
  patch(contentType?: string): Request {
    const req = this.verb('PATCH');
    return contentType ? req.setHeader('content-type', contentType) : req;
  }
  delete(): Request {
    return this.verb('DELETE');
  }
}

/** A RESTClient for one group-version of the API server `config` names. */
export function restClientFor(config: RestConfig, options: RestClientOptions): RestClient {
  return new RestClient(config, options);
}

/**
 * The JSON object of a 2xx answer, as client-go's `Result.Into` reads it: an empty, `null`, non-JSON or truncated body
 * is a {@link ResponseDecodeError} naming the request, and a `kind: Status` with `status: Failure` is the ApiError it
 * stands for. Never echoes the body (it may hold Secret data).
 */
export function decodeObjectBody(res: HttpResponse, request?: RequestInfo): unknown {
  const type = res.headers['content-type'] ?? 'no content type';
  if (!res.body)
    throw new ResponseDecodeError(
      `the server answered HTTP ${res.statusCode} with an empty body (${type})`,
      request,
      res.statusCode,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch (err) {
    const what =
      err instanceof SyntaxError && /end of JSON input|Unterminated/.test(err.message) ? 'truncated JSON' : 'not JSON';
    throw new ResponseDecodeError(
      `the HTTP ${res.statusCode} body is ${what} (${res.body.length} characters, ${type})`,
      request,
      res.statusCode,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const what = parsed === null ? 'null' : Array.isArray(parsed) ? 'a JSON array' : `a JSON ${typeof parsed}`;
    throw new ResponseDecodeError(`the HTTP ${res.statusCode} body is ${what}, not an object`, request, res.statusCode);
  }
  const status = parsed as Partial<Status>;
  if (status.kind === 'Status' && status.status === 'Failure') throw ApiError.fromStatus(status as Status, request);
  return parsed;
}

/**
 * The answer of `do()`: read it with `into<T>()` (the parsed JSON object) or `raw()`. Non-2xx answers reject with
 * ApiError; so does a 2xx whose body is a `kind: Status` with `status: Failure`. A 2xx body that is empty, `null`, not
 * JSON or truncated rejects `into` with ResponseDecodeError (`ERR_KUBE_DECODE`).
 */
export class Result {
  readonly #response: Promise<HttpResponse>;
  readonly #request: RequestInfo | undefined;

  /** `request` (verb and path) is named in the errors of `into`. */
  constructor(response: Promise<HttpResponse>, request?: RequestInfo) {
    this.#response = response;
    this.#request = request;
    // The caller may never read the result; its failure is reported where it is read.
    response.catch(() => undefined);
  }

  into<T = unknown>(): Promise<T> {
    const request = this.#request;
    return this.#response.then((res) => decodeObjectBody(res, request) as T);
  }

  raw(): Promise<HttpResponse> {
    return this.#response;
  }
}

/**
 * How {@link Request.watch} reads its stream. The answer's Content-Type picks the decoder: newline-delimited JSON, or
 * Kubernetes' protobuf frames (ask for it with an `Accept` header; kubeloop decodes protobuf for PartialObjectMetadata
 * and Status only, what metadata-only watches get).
 */
export interface WatchRequestOptions extends DoOptions {
  /** Arms a watchdog that ends a stream silent for this long with `ERR_KUBE_WATCH_STALLED`. */
  inactivityTimeoutMs?: number;
  /**
   * The caller drops `metadata.managedFields` (an informer's default transform does): a protobuf answer is then
   * decoded without them, which spares most of a metadata-only event's work. A JSON answer keeps them.
   */
  dropsManagedFields?: boolean;
}

export class Request {
  private ns: string | undefined;
  private resourceName: string | undefined;
  private objectName: string | undefined;
  private sub: string[] = [];
  private abs: string | undefined;
  /** Made on the first parameter: most requests have none. */
  private query: URLSearchParams | undefined;
  private readonly headers: Record<string, string> = {};
  private payload: string | Uint8Array | undefined;
  private timeoutMillis: number | undefined;
  private abortSignal: AbortSignal | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly method: HttpMethod,
    private readonly basePath: string,
  ) {}

  /** The namespace segment; `''` leaves it out (all namespaces, or a cluster-scoped resource). */
  namespace(namespace: string): this {
    this.ns = namespace || undefined;
    return this;
  }
  resource(resource: string): this {
    this.resourceName = resource;
    return this;
  }
  name(name: string): this {
    if (!name) throw new ArgumentError('name must not be empty');
    this.objectName = name;
    return this;
  }
  subResource(...parts: string[]): this {
    this.sub = parts;
    return this;
  }
  /** Replaces the whole path (after the host): `/version`, `/openapi/v3`. */
  absPath(...parts: string[]): this {
    this.abs = `/${parts
      .map((p) => p.replace(/^\/+|\/+$/g, ''))
      .filter(Boolean)
      .join('/')}`;
    return this;
  }
  /** Adds a query parameter; arrays repeat it; undefined is left out. */
  param(key: string, value: ParamValue): this {
    if (value === undefined) return this;
    const query = (this.query ??= new URLSearchParams());
    if (Array.isArray(value)) for (const v of value as readonly string[]) query.append(key, v);
    else query.append(key, String(value));
    return this;
  }
  params(values: Record<string, ParamValue>): this {
    for (const key in values) if (Object.hasOwn(values, key)) this.param(key, values[key]);
    return this;
  }
  setHeader(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }
  /** The request body: an object is sent as JSON; a string or bytes as they are. */
  body(body: unknown): this {
    if (typeof body === 'string' || body instanceof Uint8Array) this.payload = body;
    else this.payload = JSON.stringify(body);
    this.headers['content-type'] ??= 'application/json';
    return this;
  }
  timeout(ms: number): this {
    this.timeoutMillis = ms;
    return this;
  }
  signal(signal: AbortSignal): this {
    this.abortSignal = signal;
    return this;
  }

  /** The path this request goes to, without its query (relative to the host). */
  private path(): string {
    if (this.abs) return this.abs;
    let path = this.basePath;
    if (this.ns) path += `/namespaces/${encodeURIComponent(this.ns)}`;
    if (this.resourceName) path += `/${this.resourceName}`;
    if (this.objectName) path += `/${encodeURIComponent(this.objectName)}`;
    for (const part of this.sub) path += `/${part}`;
    return path;
  }

  /** The path and query this request goes to (relative to the host). */
  url(): string {
    return this.withQuery(this.path());
  }

  private withQuery(path: string): string {
    const query = this.query?.toString();
    return query ? `${path}?${query}` : path;
  }

  /** Sends the request. Read the answer with `.into<T>()` or `.raw()`. */
  do(options: DoOptions = {}): Result {
    const path = this.path();
    const req: HttpRequest = {
      method: this.method,
      path: this.withQuery(path),
      headers: this.headers,
      signal: options.signal ?? this.abortSignal,
      timeoutMs: options.timeoutMs ?? this.timeoutMillis,
    };
    if (this.payload !== undefined) req.body = this.payload;
    // The request's path in errors goes without a query (an absPath may carry one).
    const query = path.indexOf('?');
    return new Result(this.transport.request(req), {
      method: this.method,
      path: query < 0 ? path : path.slice(0, query),
    });
  }

  /** The answer as text lines, streamed (logs with follow). Leaving the loop closes the stream. */
  stream(options: DoOptions = {}): AsyncIterable<string> {
    const path = this.url();
    const signal = options.signal ?? this.abortSignal;
    return streamLines(
      () => this.transport.stream({ method: this.method, path, headers: { accept: '*/*', ...this.headers }, signal }),
      { method: this.method, path },
      this.transport.host,
    );
  }

  /**
   * Watches: adds `watch=true` and decodes the event stream (JSON, or protobuf when the answer is protobuf: see
   * {@link WatchRequestOptions}). See {@link Watch} for its errors.
   */
  watch<T = KubeObject>(options: WatchRequestOptions = {}): Watch<T> {
    const query = (this.query ??= new URLSearchParams());
    if (!query.has('watch')) query.set('watch', 'true');
    const path = this.url();
    return watchStream<T>(
      (signal) => this.transport.stream({ method: this.method, path, headers: this.headers, signal }),
      {
        request: { method: this.method, path },
        origin: this.transport.host,
        signal: options.signal ?? this.abortSignal,
        inactivityTimeoutMs: options.inactivityTimeoutMs,
        dropsManagedFields: options.dropsManagedFields,
      },
    );
  }
}
