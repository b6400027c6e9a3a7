import { createServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type SecureVersion } from 'node:tls';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { KubeloopError, AlreadyStartedError } from '../client/index.js';
import { denied, responseForError, type AdmissionHandler, type WebhookLogger } from './admission.js';
import { conversionKey, convertReview, type Conversion } from './conversion.js';
import { conversionPath } from './decorator.js';
import { WebhookError } from './errors.js';
import { CertWatcher, type ServingCertificate } from './internal/cert-watcher.js';
import type { AdmissionResponse, AdmissionReview, ConversionReview } from './types.js';

/** Where the webhook server reads its certificate by default, as controller-runtime. */
export const defaultCertDir = '/tmp/k8s-webhook-server/serving-certs';

/** Options of the webhook server (the manager's `webhook` option). Each default is controller-runtime's. */
export interface WebhookServerOptions {
  /** Default: 9443. 0 picks a free port (see {@link WebhookServer.port}). */
  port?: number;
  /** The address to listen on. Default: every interface. */
  host?: string;
  /** Folder of the serving certificate and key. Default: `/tmp/k8s-webhook-server/serving-certs`. */
  certDir?: string;
  /** Default: `tls.crt`. */
  certName?: string;
  /** Default: `tls.key`. */
  keyName?: string;
  /** A CA file in `certDir` whose certificates callers must present (mutual TLS). Default: none, no client certificate asked. */
  clientCAName?: string;
  /** Default: `TLSv1.2`. */
  tlsMinVersion?: SecureVersion;
  /** Largest request body accepted; larger ones get 400. Default: 7 MiB, as controller-runtime. */
  maxRequestBytes?: number;
  /** How long a raw handler may take before the request is denied. Default: 9000 (webhooks' own timeouts are shorter). */
  handlerTimeoutMs?: number;
  /** How often the certificate files are re-read besides on file events. Default: 10000. */
  certPollIntervalMs?: number;
  /** How long a stop waits for in-flight requests. Default: 30000. */
  shutdownTimeoutMs?: number;
  /** Requests are counted here with controller-runtime's series. Default: not counted. */
  registry?: Registry;
  /** Default: silent. */
  log?: WebhookLogger;
}

/** Per-registration options. */
export interface RegisterOptions {
  /** The name in metrics and logs. Default: the path. */
  name?: string;
  /** How long the handler may take before the request is denied. Default: the server's `handlerTimeoutMs`. */
  timeoutMs?: number;
}

/**
 * The HTTPS server that answers the API server's admission and conversion calls (controller-runtime's webhook.Server).
 * The manager runs one on every replica (webhooks are not leader-only) when something is registered.
 *
 * Guarantees: TLS 1.2 or newer with the certificate in `certDir`; rotated files are picked up without a restart and
 * without dropping requests in flight (new connections get the new certificate). A request that is not a POST of an
 * AdmissionReview or ConversionReview as JSON, or is over `maxRequestBytes`, gets 400 and one log line. A handler that
 * throws denies the request with its message (a `ValidationError` as 422 Invalid with causes); a handler that takes too
 * long denies it with a timeout message; neither crashes the process. Stopping stops accepting, lets requests in
 * flight finish within `shutdownTimeoutMs`, then closes every connection.
 *
 * Metrics: `controller_runtime_webhook_requests_total{webhook,code}`, `controller_runtime_webhook_latency_seconds{webhook}`,
 * `controller_runtime_webhook_requests_in_flight{webhook}`, where `webhook` is the path and `code` the HTTP status.
 *
 * Errors: `start()` rejects with `ERR_WEBHOOK_CERTIFICATE` when the certificate files are missing or do not form a
 * pair, and `ERR_LISTEN` when the port is taken. `register()` throws `ERR_WEBHOOK_REGISTRATION` for a path used twice.
 *
 * Caveats: a handler's message is shown to the user who made the request: keep secrets out of it.
 */
export interface WebhookServer {
  /** Serves a raw admission handler at `path`. Registering after start is allowed. */
  register(path: string, handler: AdmissionHandler, options?: RegisterOptions): void;
  /** Serves a kind's conversion at `/convert` (one handler for every kind). */
  registerConversion(conversion: Conversion): void;
  /** The registered paths. */
  paths(): string[];
  /** True once something is registered: the manager starts the server only then. */
  readonly hasHandlers: boolean;
  /** Listens until the signal aborts, then shuts down gracefully. Resolves once closed. */
  start(signal: AbortSignal): Promise<void>;
  /** Resolves once listening (rejects if start failed). */
  listening(): Promise<void>;
  /** The port listened on, once listening. */
  readonly port: number | undefined;
  /** A readiness check: a TLS handshake with the server succeeds (controller-runtime's StartedChecker). */
  startedChecker(): (options: { signal: AbortSignal }) => Promise<void>;
}

interface Route {
  name: string;
  timeoutMs: number;
  handler: AdmissionHandler | 'conversion';
  /** The route's series, labelled once at registration. */
  metrics?: { inFlight: { inc(): void; dec(): void }; ok: { inc(): void }; latency: { observe(seconds: number): void } };
}

const silent: WebhookLogger = { info() {}, warn() {}, error() {}, debug() {}, child: () => silent };

class BadRequest extends Error {}

function webhookMetrics(registry: Registry | undefined) {
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

/** Makes a webhook server. Nothing listens until `start()`. See {@link WebhookServer}. */
export function createWebhookServer(options: WebhookServerOptions = {}): WebhookServer {
  const certDir = options.certDir ?? defaultCertDir;
  const certPath = join(certDir, options.certName ?? 'tls.crt');
  const keyPath = join(certDir, options.keyName ?? 'tls.key');
  const maxBytes = options.maxRequestBytes ?? 7 * 1024 * 1024;
  const defaultTimeoutMs = options.handlerTimeoutMs ?? 9_000;
  const log = options.log ?? silent;
  const metrics = webhookMetrics(options.registry);
  const routes = new Map<string, Route>();
  const conversions = new Map<string, Conversion>();
  let port: number | undefined;
  let listeningResolve!: () => void;
  let listeningReject!: (err: Error) => void;
  const listeningPromise = new Promise<void>((resolve, reject) => {
    listeningResolve = resolve;
    listeningReject = reject;
  });
  listeningPromise.catch(() => undefined);
  let startedOnce = false;
  let inFlight = 0;
  /** Every open connection, TLS handshakes included (the HTTP layer learns of a connection only once it is secure). */
  const sockets = new Set<Socket>();

  const add = (path: string, route: Route): void => {
    if (!path.startsWith('/')) throw new WebhookError('ERR_WEBHOOK_REGISTRATION', `webhook path ${JSON.stringify(path)} must start with /`);
    if (routes.has(path)) throw new WebhookError('ERR_WEBHOOK_REGISTRATION', `a webhook is already registered at ${path}`);
    if (metrics) route.metrics = { inFlight: metrics.inFlight.labels(path), ok: metrics.total.labels(path, '200'), latency: metrics.latency.labels(path) };
    routes.set(path, route);
  };

  function readBody(req: IncomingMessage): Promise<Buffer> {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) return Promise.reject(new BadRequest(`request body of ${declared} bytes is over the limit of ${maxBytes} bytes`));
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

  function parseReview(req: IncomingMessage, body: Buffer, expected: 'AdmissionReview' | 'ConversionReview'): AdmissionReview | ConversionReview {
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

  async function admit(route: Route & { handler: AdmissionHandler }, review: AdmissionReview, controller: AbortController): Promise<AdmissionReview> {
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
      if (response.status?.code !== 422) childLog().warn({ error: response.status?.message }, 'webhook handler failed; request denied');
      return reviewOf(review, response, request.uid);
    } finally {
      clearTimeout(timer);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    inFlight++;
    try {
      await serve(req, res);
    } finally {
      inFlight--;
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const route = routes.get(path);
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
      if (!res.writableFinished) clientGone.abort(new WebhookError('ERR_WEBHOOK_CALLER_GONE', 'the caller closed the connection'));
    });
    try {
      if (req.method !== 'POST') {
        code = 405;
        send(res, code, 'text/plain', 'method not allowed: use POST\n', { allow: 'POST' });
        return;
      }
      let answer: unknown;
      try {
        const body = await readBody(req);
        if (route.handler === 'conversion') {
          const review = parseReview(req, body, 'ConversionReview') as ConversionReview;
          answer = { apiVersion: review.apiVersion ?? 'apiextensions.k8s.io/v1', kind: 'ConversionReview', response: convertReview(conversions, review.request!) };
          const result = (answer as ConversionReview).response!.result;
          if (result.status !== 'Success') log.warn({ webhook: route.name, uid: review.request!.uid, error: result.message }, 'conversion failed');
        } else {
          const review = parseReview(req, body, 'AdmissionReview') as AdmissionReview;
          answer = await admit(route as Route & { handler: AdmissionHandler }, review, clientGone);
        }
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

  const server: WebhookServer = {
    register(path, handler, registerOptions = {}) {
      add(path, { name: registerOptions.name ?? path, timeoutMs: registerOptions.timeoutMs ?? defaultTimeoutMs, handler });
    },
    registerConversion(conversion) {
      const key = conversionKey(conversion.group, conversion.kind);
      if (conversions.has(key)) throw new WebhookError('ERR_WEBHOOK_REGISTRATION', `a conversion for ${key} is already registered`);
      if (!routes.has(conversionPath)) add(conversionPath, { name: conversionPath, timeoutMs: defaultTimeoutMs, handler: 'conversion' });
      conversions.set(key, conversion);
    },
    paths: () => [...routes.keys()].toSorted(),
    get hasHandlers() {
      return routes.size > 0;
    },
    get port() {
      return port;
    },
    listening: () => listeningPromise,
    async start(signal) {
      if (startedOnce) throw new AlreadyStartedError('webhook server', 'the webhook server was already started');
      startedOnce = true;
      let https: HttpsServer;
      let watcher: CertWatcher;
      try {
        const tlsBase = { minVersion: options.tlsMinVersion ?? ('TLSv1.2' as const) };
        const clientCa = options.clientCAName
          ? { ca: await readClientCa(join(certDir, options.clientCAName)), requestCert: true, rejectUnauthorized: true }
          : {};
        watcher = new CertWatcher(
          { dir: certDir, certPath, keyPath },
          (pair: ServingCertificate) => {
            https.setSecureContext({ ...tlsBase, ...pair, ...clientCa });
            log.info({ certDir }, 'serving certificate reloaded');
          },
          (err) => log.warn({ certDir, error: err.message }, 'serving certificate not reloaded (the files do not form a pair yet)'),
          options.certPollIntervalMs,
        );
        let pair: ServingCertificate;
        try {
          pair = await watcher.load();
        } catch (err) {
          throw new WebhookError(
            'ERR_WEBHOOK_CERTIFICATE',
            `cannot load the webhook serving certificate from ${certPath} and ${keyPath}: ${(err as Error).message}. ` +
              'Mount the certificate Secret there (cert-manager or the built-in provisioner), or set webhook.certDir',
            { cause: err },
          );
        }
        https = createServer({ ...tlsBase, ...pair, ...clientCa, requestTimeout: 30_000, keepAliveTimeout: 30_000 }, (req, res) => {
          void handle(req, res);
        });
        https.on('tlsClientError', () => undefined);
        https.on('connection', (socket: Socket) => {
          sockets.add(socket);
          socket.once('close', () => sockets.delete(socket));
        });
        await new Promise<void>((resolve, reject) => {
          https.once('error', (err) => reject(new WebhookError('ERR_LISTEN', `the webhook server cannot listen on ${options.host ?? ''}:${options.port ?? 9443}: ${err.message}`, { cause: err })));
          https.listen({ port: options.port ?? 9443, ...(options.host && { host: options.host }) }, () => resolve());
        });
        port = (https.address() as AddressInfo).port;
        watcher.watch();
        log.info({ port, certDir, paths: server.paths() }, 'webhook server listening');
        listeningResolve();
      } catch (err) {
        listeningReject(err as Error);
        throw err;
      }
      if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      watcher.close();
      await shutdown(https, () => inFlight, options.shutdownTimeoutMs ?? 30_000, sockets);
      log.info({ port }, 'webhook server stopped');
    },
    startedChecker() {
      return async ({ signal }) => {
        if (port === undefined) throw new KubeloopError('ERR_KUBE_NOT_STARTED', 'the webhook server is not listening yet');
        await new Promise<void>((resolve, reject) => {
          // A handshake with ourselves: no hostname to verify against, and nothing is sent.
          const host = options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : '127.0.0.1';
          const socket = connect({ host, port: port!, rejectUnauthorized: false });
          signal.addEventListener('abort', () => socket.destroy(signal.reason as Error), { once: true });
          socket.once('secureConnect', () => {
            socket.end();
            resolve();
          });
          socket.once('error', (err) => reject(new WebhookError('ERR_WEBHOOK_NOT_READY', `the webhook server does not complete a TLS handshake: ${err.message}`)));
        });
      };
    },
  };
  return server;
}

async function readClientCa(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new WebhookError('ERR_WEBHOOK_CERTIFICATE', `cannot read the client CA ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function reviewOf(review: AdmissionReview, response: object, uid: string): AdmissionReview {
  return { apiVersion: review.apiVersion ?? 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { ...response, uid } as AdmissionReview['response'] };
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/**
 * Stops accepting, waits until no request is in flight (up to the timeout), then closes every connection: the API
 * server keeps its connections open between calls, so waiting for them to close would always take the full timeout.
 * `closeAllConnections` knows only connections whose TLS handshake is done; the sockets are closed too, so that a stop
 * during a handshake does not wait for the timeout either.
 */
async function shutdown(server: HttpsServer, inFlight: () => number, timeoutMs: number, sockets: ReadonlySet<Socket>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const deadline = Date.now() + timeoutMs;
  while (inFlight() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  server.closeAllConnections();
  for (const socket of sockets) socket.destroy();
  await closed;
}
