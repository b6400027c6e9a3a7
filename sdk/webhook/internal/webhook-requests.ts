// Serving one webhook request: the route of its path, its body and review, the handler's answer (admission with a
// timeout, or conversion), the reply and the request's metrics. The server's lifecycle is ../server.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from './prom-client.js';
import { denied, responseForError, type AdmissionHandler, type WebhookLogger } from '../admission.js';
import { convertReview, type Conversion } from '../conversion.js';
import { WebhookError } from '../errors.js';
import type { AdmissionResponse, AdmissionReview, ConversionReview } from '../types.js';

export interface Route {
  name: string;
  timeoutMs: number;
  handler: AdmissionHandler | 'conversion';
  /** The route's series, labelled once at registration. */
  metrics?: {
    inFlight: { inc(): void; dec(): void };
    ok: { inc(): void };
    latency: { observe(seconds: number): void };
  };
}

/** A request the caller got wrong: answered 400 with the message. */
class BadRequest extends Error {}

export type WebhookMetrics = NonNullable<ReturnType<typeof webhookMetrics>>;

/** controller-runtime's webhook series on the registry (shared by the servers of one registry), or none. */
export function webhookMetrics(registry: Registry | undefined) {
  if (!registry) return undefined;
  const existing = registry.getSingleMetric('controller_runtime_webhook_requests_total');
  if (existing) {
    return {
      total: existing as Counter<'webhook' | 'code'>,
      latency: registry.getSingleMetric('controller_runtime_webhook_latency_seconds') as Histogram<'webhook'>,
      inFlight: registry.getSingleMetric('controller_runtime_webhook_requests_in_flight') as Gauge<'webhook'>,
    };
  }
  return {
    total: new Counter({
      name: 'controller_runtime_webhook_requests_total',
      help: 'Total number of admission requests by HTTP status code.',
      labelNames: ['webhook', 'code'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'controller_runtime_webhook_latency_seconds',
      help: 'Histogram of the latency of processing admission requests',
      labelNames: ['webhook'] as const,
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'controller_runtime_webhook_requests_in_flight',
      help: 'Current number of admission requests being served.',
      labelNames: ['webhook'] as const,
      registers: [registry],
    }),
  };
}

/** The request body, at most `maxBytes` (BadRequest beyond). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes)
    return Promise.reject(new BadRequest(`request body of ${declared} bytes is over the limit of ${maxBytes} bytes`));
  // 'data' events rather than the stream's async iterator: one promise per body, not one per chunk.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.resume();
        reject(new BadRequest(`request body is over the limit of ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** The review of a request: JSON of the expected kind, with a request uid (BadRequest otherwise). */
export function parseReview(
  req: IncomingMessage,
  body: Buffer,
  expected: 'AdmissionReview' | 'ConversionReview',
): AdmissionReview | ConversionReview {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new BadRequest(`content type ${JSON.stringify(type)} is not application/json`);
  let review: unknown;
  try {
    review = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadRequest(`the body is not JSON (expected a ${expected})`);
  }
  const r = review as { kind?: unknown; request?: { uid?: unknown } } | null;
  if (!r || r.kind !== expected || typeof r.request?.uid !== 'string' || r.request.uid === '') {
    throw new BadRequest(`the body is not a ${expected} with a request and its uid`);
  }
  return r as AdmissionReview | ConversionReview;
}

/**
 * Calls an admission handler: its answer, or a denial when it times out, returns nothing or throws. The request's
 * logger is made only when something logs.
 */
export async function admit(
  route: Route & { handler: AdmissionHandler },
  review: AdmissionReview,
  controller: AbortController,
  log: WebhookLogger,
): Promise<AdmissionReview> {
  const request = review.request!;
  // The request's logger is made only when something logs: pino's child() serialises its bindings at once.
  let reqLog: WebhookLogger | undefined;
  const childLog = (): WebhookLogger =>
    (reqLog ??= log.child({
      webhook: route.name,
      uid: request.uid,
      kind: request.kind?.kind,
      namespace: request.namespace,
      name: request.name,
      operation: request.operation,
    }));
  let timer: NodeJS.Timeout | undefined;
  try {
    // The handler is called at once; only an answer that is a promise is raced against the timeout.
    let answer: AdmissionResponse | Promise<AdmissionResponse> | 'timeout' = route.handler(request, {
      signal: controller.signal,
      get log() {
        return childLog();
      },
    });
    if (typeof (answer as Partial<PromiseLike<unknown>> | undefined)?.then === 'function') {
      const pending = answer as PromiseLike<AdmissionResponse>;
      answer = await new Promise<AdmissionResponse | 'timeout'>((resolve, reject) => {
        timer = setTimeout(() => resolve('timeout'), route.timeoutMs);
        pending.then(resolve, reject);
      });
    }
    if (answer === 'timeout') {
      controller.abort(new WebhookError('ERR_WEBHOOK_TIMEOUT', `handler did not answer within ${route.timeoutMs} ms`));
      childLog().warn({ timeoutMs: route.timeoutMs }, 'webhook handler timed out; request denied');
      return reviewOf(review, denied(`the webhook did not answer within ${route.timeoutMs} ms`, 504), request.uid);
    }
    if (!answer) {
      childLog().warn({}, 'webhook handler returned no response; request denied');
      return reviewOf(review, denied('the webhook handler returned no response', 500), request.uid);
    }
    return reviewOf(review, answer as AdmissionResponse, request.uid);
  } catch (err) {
    const response = responseForError(err, request);
    if (response.status?.code !== 422)
      childLog().warn({ error: response.status?.message }, 'webhook handler failed; request denied');
    return reviewOf(review, response, request.uid);
  } finally {
    clearTimeout(timer);
  }
}

/** The routes and conversions, and the serving of each request: routing, body, review, answer, metrics. */
export class WebhookRequests {
  readonly routes = new Map<string, Route>();
  readonly conversions = new Map<string, Conversion>();
  /** Requests being served. */
  inFlight = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly log: WebhookLogger,
    private readonly metrics: WebhookMetrics | undefined,
  ) {}

  add(path: string, route: Route): void {
    if (!path.startsWith('/'))
      throw new WebhookError('ERR_WEBHOOK_REGISTRATION', `webhook path ${JSON.stringify(path)} must start with /`);
    if (this.routes.has(path))
      throw new WebhookError('ERR_WEBHOOK_REGISTRATION', `a webhook is already registered at ${path}`);
    const metrics = this.metrics;
    if (metrics)
      route.metrics = {
        inFlight: metrics.inFlight.labels(path),
        ok: metrics.total.labels(path, '200'),
        latency: metrics.latency.labels(path),
      };
    this.routes.set(path, route);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    try {
      await this.serve(req, res);
    } finally {
      this.inFlight--;
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { log, metrics } = this;
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const route = this.routes.get(path);
    if (!route) {
      send(res, 404, 'text/plain', `no webhook at ${path}\n`);
      return;
    }
    const started = process.hrtime.bigint();
    const series = route.metrics;
    series?.inFlight.inc();
    let code = 200;
    const clientGone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished)
        clientGone.abort(new WebhookError('ERR_WEBHOOK_CALLER_GONE', 'the caller closed the connection'));
    });
    try {
      if (req.method !== 'POST') {
        code = 405;
        send(res, code, 'text/plain', 'method not allowed: use POST\n', { allow: 'POST' });
        return;
      }
      let answer: unknown;
      try {
        answer = await this.answer(route, req, clientGone);
      } catch (err) {
        if (!(err instanceof BadRequest)) throw err;
        code = 400;
        log.warn({ webhook: route.name, error: err.message }, 'bad webhook request');
        send(res, code, 'text/plain', `${err.message}\n`);
        return;
      }
      send(res, 200, 'application/json', JSON.stringify(answer));
    } catch (err) {
      code = 500;
      log.error({ webhook: route.name, error: (err as Error).message }, 'webhook request failed');
      if (!res.headersSent) send(res, code, 'text/plain', 'internal error\n');
      else res.destroy();
    } finally {
      if (series) {
        series.inFlight.dec();
        (code === 200 ? series.ok : metrics!.total.labels(path, String(code))).inc();
        series.latency.observe(Number(process.hrtime.bigint() - started) / 1e9);
      }
    }
  }

  /** The answer to a request's review: a ConversionReview converted, or an AdmissionReview admitted. */
  private async answer(route: Route, req: IncomingMessage, clientGone: AbortController): Promise<unknown> {
    const body = await readBody(req, this.maxBytes);
    if (route.handler === 'conversion') {
      const review = parseReview(req, body, 'ConversionReview') as ConversionReview;
      const answer: ConversionReview = {
        apiVersion: review.apiVersion ?? 'apiextensions.k8s.io/v1',
        kind: 'ConversionReview',
        response: convertReview(this.conversions, review.request!),
      };
      const result = answer.response!.result;
      if (result.status !== 'Success')
        this.log.warn({ webhook: route.name, uid: review.request!.uid, error: result.message }, 'conversion failed');
      return answer;
    }
    const review = parseReview(req, body, 'AdmissionReview') as AdmissionReview;
    return admit(route as Route & { handler: AdmissionHandler }, review, clientGone, this.log);
  }
}

function reviewOf(review: AdmissionReview, response: object, uid: string): AdmissionReview {
  return {
    apiVersion: review.apiVersion ?? 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { ...response, uid } as AdmissionReview['response'],
  };
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
