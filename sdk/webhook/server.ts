import { createServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type SecureVersion } from 'node:tls';
import type { Registry } from 'prom-client';
import { KubeloopError, AlreadyStartedError } from '../client/index.js';
import type { AdmissionHandler, WebhookLogger } from './admission.js';
import { conversionKey, type Conversion } from './conversion.js';
import { conversionPath } from './decorator.js';
import { WebhookError } from './errors.js';
import { CertWatcher, type ServingCertificate } from './internal/cert-watcher.js';
import { webhookMetrics, WebhookRequests } from './internal/webhook-requests.js';

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

const silent: WebhookLogger = { info() {}, warn() {}, error() {}, debug() {}, child: () => silent };

/** The HTTPS server, listening, with its certificate watcher: the first step of `start()`. */
interface Listening {
  https: HttpsServer;
  watcher: CertWatcher;
  port: number;
}

/**
 * Loads the serving certificate, creates the HTTPS server (its secure context reloaded with the certificate) and
 * listens; `sockets` tracks every open connection for the shutdown.
 */
async function listen(
  options: WebhookServerOptions,
  paths: { certDir: string; certPath: string; keyPath: string },
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  sockets: Set<Socket>,
  log: WebhookLogger,
): Promise<Listening> {
  const { certDir, certPath, keyPath } = paths;
  let https: HttpsServer | undefined;
  const tlsBase = { minVersion: options.tlsMinVersion ?? ('TLSv1.2' as const) };
  const clientCa = options.clientCAName
    ? { ca: await readClientCa(join(certDir, options.clientCAName)), requestCert: true, rejectUnauthorized: true }
    : {};
  const watcher = new CertWatcher(
    { dir: certDir, certPath, keyPath },
    (pair: ServingCertificate) => {
      https!.setSecureContext({ ...tlsBase, ...pair, ...clientCa });
      log.info({ certDir }, 'serving certificate reloaded');
    },
    (err) =>
      log.warn({ certDir, error: err.message }, 'serving certificate not reloaded (the files do not form a pair yet)'),
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
  const server = createServer(
    { ...tlsBase, ...pair, ...clientCa, requestTimeout: 30_000, keepAliveTimeout: 30_000 },
    onRequest,
  );
  https = server;
  server.on('tlsClientError', () => undefined);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new WebhookError(
          'ERR_LISTEN',
          `the webhook server cannot listen on ${options.host ?? ''}:${options.port ?? 9443}: ${err.message}`,
          { cause: err },
        ),
      ),
    );
    server.listen({ port: options.port ?? 9443, ...(options.host && { host: options.host }) }, () => resolve());
  });
  return { https: server, watcher, port: (server.address() as AddressInfo).port };
}

/** A readiness check: a TLS handshake with the server succeeds (controller-runtime's StartedChecker). */
function handshakeCheck(
  host: string | undefined,
  port: () => number | undefined,
): (options: { signal: AbortSignal }) => Promise<void> {
  return async ({ signal }) => {
    const listeningPort = port();
    if (listeningPort === undefined)
      throw new KubeloopError('ERR_KUBE_NOT_STARTED', 'the webhook server is not listening yet');
    await new Promise<void>((resolve, reject) => {
      // A handshake with ourselves: no hostname to verify against, and nothing is sent.
      const address = host && host !== '0.0.0.0' && host !== '::' ? host : '127.0.0.1';
      const socket = connect({ host: address, port: listeningPort, rejectUnauthorized: false });
      signal.addEventListener('abort', () => socket.destroy(signal.reason as Error), { once: true });
      socket.once('secureConnect', () => {
        socket.end();
        resolve();
      });
      socket.once('error', (err) =>
        reject(
          new WebhookError(
            'ERR_WEBHOOK_NOT_READY',
            `the webhook server does not complete a TLS handshake: ${err.message}`,
          ),
        ),
      );
    });
  };
}

/** Makes a webhook server. Nothing listens until `start()`. See {@link WebhookServer}. */
export function createWebhookServer(options: WebhookServerOptions = {}): WebhookServer {
  const certDir = options.certDir ?? defaultCertDir;
  const certPath = join(certDir, options.certName ?? 'tls.crt');
  const keyPath = join(certDir, options.keyName ?? 'tls.key');
  const defaultTimeoutMs = options.handlerTimeoutMs ?? 9_000;
  const log = options.log ?? silent;
  const requests = new WebhookRequests(
    options.maxRequestBytes ?? 7 * 1024 * 1024,
    log,
    webhookMetrics(options.registry),
  );
  const { routes, conversions } = requests;
  let port: number | undefined;
  let listeningResolve!: () => void;
  let listeningReject!: (err: Error) => void;
  const listeningPromise = new Promise<void>((resolve, reject) => {
    listeningResolve = resolve;
    listeningReject = reject;
  });
  listeningPromise.catch(() => undefined);
  let startedOnce = false;
  /** Every open connection, TLS handshakes included (the HTTP layer learns of a connection only once it is secure). */
  const sockets = new Set<Socket>();

  const server: WebhookServer = {
    register(path, handler, registerOptions = {}) {
      requests.add(path, {
        name: registerOptions.name ?? path,
        timeoutMs: registerOptions.timeoutMs ?? defaultTimeoutMs,
        handler,
      });
    },
    registerConversion(conversion) {
      const key = conversionKey(conversion.group, conversion.kind);
      if (conversions.has(key))
        throw new WebhookError('ERR_WEBHOOK_REGISTRATION', `a conversion for ${key} is already registered`);
      if (!routes.has(conversionPath))
        requests.add(conversionPath, { name: conversionPath, timeoutMs: defaultTimeoutMs, handler: 'conversion' });
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
      let up: Listening;
      try {
        up = await listen(
          options,
          { certDir, certPath, keyPath },
          (req, res) => void requests.handle(req, res),
          sockets,
          log,
        );
        port = up.port;
        up.watcher.watch();
        log.info({ port, certDir, paths: server.paths() }, 'webhook server listening');
        listeningResolve();
      } catch (err) {
        listeningReject(err as Error);
        throw err;
      }
      if (!signal.aborted)
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      up.watcher.close();
      await shutdown(up.https, () => requests.inFlight, options.shutdownTimeoutMs ?? 30_000, sockets);
      log.info({ port }, 'webhook server stopped');
    },
    startedChecker: () => handshakeCheck(options.host, () => port),
  };
  return server;
}

async function readClientCa(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new WebhookError('ERR_WEBHOOK_CERTIFICATE', `cannot read the client CA ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Stops accepting, waits until no request is in flight (up to the timeout), then closes every connection: the API
 * server keeps its connections open between calls, so waiting for them to close would always take the full timeout.
 * `closeAllConnections` knows only connections whose TLS handshake is done; the sockets are closed too, so that a stop
 * during a handshake does not wait for the timeout either.
 */
async function shutdown(
  server: HttpsServer,
  inFlight: () => number,
  timeoutMs: number,
  sockets: ReadonlySet<Socket>,
): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const deadline = Date.now() + timeoutMs;
  while (inFlight() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  server.closeAllConnections();
  for (const socket of sockets) socket.destroy();
  await closed;
}
