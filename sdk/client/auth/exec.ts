/**
 * Exec credential plugins (`client.authentication.k8s.io/v1` and `v1beta1`): a program that prints an ExecCredential
 * with a token or a client certificate, as kubectl runs `aws eks get-token`, `gke-gcloud-auth-plugin` or `kubelogin`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { KubeloopError, type KubeloopErrorOptions } from '../errors.js';
import type { ExecConfig } from '../config/types.js';

/** An exec plugin could not give a credential. Code `ERR_KUBE_EXEC`. The message never holds the plugin's output. */
export class ExecCredentialError extends KubeloopError {
  constructor(message: string, options: KubeloopErrorOptions = {}) {
    super('ERR_KUBE_EXEC', message, options);
  }
}

/** What a plugin gave: a bearer token, a client certificate (PEM), or both, and when it expires. */
export interface ExecCredential {
  token?: string;
  certData?: string;
  keyData?: string;
  /** Expiry in milliseconds since the epoch; undefined when the plugin set none (valid until a 401). */
  expiresAt?: number;
}

/** The cluster, as passed to plugins with `provideClusterInfo`. */
export interface ExecClusterInfo {
  server: string;
  /** PEM; sent base64-encoded as `certificate-authority-data`. */
  caData?: string;
  serverName?: string;
  insecureSkipTLSVerify?: boolean;
  proxyUrl?: string;
  disableCompression?: boolean;
}

export interface ExecCredentialSourceOptions {
  /**
   * Standard input for interactive plugins; used only when it is a TTY (`isTTY`) and the interactive mode allows it.
   * Default: `process.stdin`, which the plugin then inherits.
   */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where the plugin's standard error goes (prompts, progress). Default: `process.stderr`. */
  stderr?: NodeJS.WritableStream;
  /** Environment the plugin's own `env` entries are merged over. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Run the plugin again this long before the credential expires, in milliseconds, but never earlier than halfway
   * through its lifetime. Default: 10000.
   */
  refreshBeforeExpiryMs?: number;
  /** Clock, in milliseconds since the epoch. Default: `Date.now`. */
  now?: () => number;
}

export interface ExecCredentialSource {
  /**
   * The cached credential, or a fresh one from running the plugin. When `signal` aborts first, rejects at once with
   * its reason; the plugin's run goes on for the other callers, and a later call joins it.
   */
  credential(signal?: AbortSignal): Promise<ExecCredential>;
  /**
   * Forget the cached credential, so the next `credential()` runs the plugin (call it once on a 401). With `stale`,
   * only if the cached credential is that one: a credential another caller already refreshed is kept.
   */
  invalidate(stale?: ExecCredential): void;
  /** The plugin's state, for health checks. Never holds a credential or the plugin's arguments. */
  health(): ExecPluginHealth;
}

/** What an exec plugin is doing, for `/readyz` and logs. */
export interface ExecPluginHealth {
  /** The plugin's command, with control characters escaped. */
  command: string;
  /** A run is in progress. */
  running: boolean;
  /** How long the run in progress has taken so far, in milliseconds; undefined when none. */
  runningForMs: number | undefined;
  /** Callers whose timeout passed while they waited for the run in progress. */
  waitersTimedOut: number;
  /** A run is in progress and a caller's timeout passed while it waited: the plugin hangs, or is slower than the requests allow. */
  stuck: boolean;
  /** The message of the last failed run; undefined once a run succeeded after it. */
  lastError: string | undefined;
}

const apiVersions = new Set(['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']);

/**
 * Runs an exec credential plugin when a credential is needed, as client-go does.
 *
 * The plugin runs with `exec.args`, `exec.env` merged over the environment, and `KUBERNETES_EXEC_INFO` holding an
 * ExecCredential whose `spec.interactive` says whether it may prompt, and with `provideClusterInfo`, `spec.cluster`
 * (server, tls-server-name, insecure-skip-tls-verify, base64 certificate-authority-data, proxy-url, and the
 * cluster's exec extension as `config`). Interactive modes: `Never` gives no standard input; `IfAvailable` gives it
 * when it is a TTY; `Always` requires a TTY. v1 requires `interactiveMode`; v1beta1 defaults to `IfAvailable`.
 *
 * Guarantees: the credential is cached until `status.expirationTimestamp` (refreshed a little early, see
 * `refreshBeforeExpiryMs`), or until `invalidate()` when it has none. Concurrent callers share one run.
 * The plugin's standard error goes to `stderr`; its standard output (the secret) is parsed and goes nowhere else.
 *
 * Recovery: if a refresh fails while the cached credential has not expired yet, that credential is returned and the
 * next call tries again.
 *
 * Errors: an {@link ExecCredentialError} (`ERR_KUBE_EXEC`) naming the command when the configuration is invalid,
 * the command is not found (with `installHint`), `Always` is asked for without a TTY, the plugin exits non-zero or
 * is killed (its standard error is not in the message: it went to `stderr`, as in client-go), or prints something other than an ExecCredential of the
 * configured apiVersion with a token or a certificate and key. Never the plugin's standard output or its arguments.
 *
 * Caveats: the plugin itself has no timeout (an interactive plugin may take as long as its user, as in client-go);
 * callers bound their wait with a signal, and a run their timeout gave up on shows as `stuck` in {@link
 * ExecCredentialSource.health} until it ends.
 */
export function createExecCredentialSource(
  exec: ExecConfig,
  cluster: ExecClusterInfo,
  options: ExecCredentialSourceOptions = {},
): ExecCredentialSource {
  const now = options.now ?? Date.now;
  const refreshBeforeMs = options.refreshBeforeExpiryMs ?? 10_000;
  let cached: { credential: ExecCredential; refreshAt: number } | undefined;
  interface Run {
    promise: Promise<ExecCredential>;
    startedAt: number;
    waitersTimedOut: number;
  }
  let running: Run | undefined;
  let lastError: string | undefined;

  const fresh = async (): Promise<ExecCredential> => {
    const startedAt = now();
    let credential: ExecCredential;
    try {
      credential = await runPlugin(exec, cluster, options);
      lastError = undefined;
    } catch (err) {
      lastError = (err as Error).message;
      if (cached && cached.credential.expiresAt !== undefined && now() < cached.credential.expiresAt)
        return cached.credential;
      throw err;
    }
    const { expiresAt } = credential;
    const refreshAt =
      expiresAt === undefined
        ? Number.POSITIVE_INFINITY
        : expiresAt - Math.min(refreshBeforeMs, Math.max(0, (expiresAt - startedAt) / 2));
    cached = { credential, refreshAt };
    return credential;
  };

  return {
    credential(signal) {
      if (cached && now() < cached.refreshAt) return Promise.resolve(cached.credential);
      if (!running) {
        const run: Run = { promise: Promise.resolve({}), startedAt: now(), waitersTimedOut: 0 };
        // Cleared before any caller resumes, so a caller that asks again right away starts a new run if need be.
        run.promise = fresh().finally(() => {
          if (running === run) running = undefined;
        });
        // A run whose every caller gave up reports no unhandled rejection.
        run.promise.catch(() => undefined);
        running = run;
      }
      const run = running;
      return signal ? waitFor(run.promise, signal, () => run.waitersTimedOut++) : run.promise;
    },
    invalidate(stale) {
      if (stale === undefined || cached?.credential === stale) cached = undefined;
    },
    health() {
      const run = running;
      return {
        command: printable(exec.command),
        running: run !== undefined,
        runningForMs: run ? now() - run.startedAt : undefined,
        waitersTimedOut: run?.waitersTimedOut ?? 0,
        stuck: run !== undefined && run.waitersTimedOut > 0,
        lastError,
      };
    },
  };
}

/** `promise`, or the signal's reason as soon as it aborts; `onTimeout` counts a wait ended by a timeout signal. */
function waitFor<T>(promise: Promise<T>, signal: AbortSignal, onTimeout: () => void): Promise<T> {
  const gaveUp = (): unknown => {
    if ((signal.reason as Error | undefined)?.name === 'TimeoutError') onTimeout();
    return signal.reason;
  };
  if (signal.aborted) return Promise.reject(gaveUp());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(gaveUp());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const shared = new Map<string, ExecCredentialSource>();

/**
 * The process-wide source of one plugin for one cluster: every client of an equal exec configuration shares its
 * cached credential and its runs, as client-go's exec authenticators are cached by configuration.
 */
export function sharedExecCredentialSource(exec: ExecConfig, cluster: ExecClusterInfo): ExecCredentialSource {
  const key = createHash('sha256')
    .update(JSON.stringify([exec, cluster]))
    .digest('hex');
  let source = shared.get(key);
  if (!source) {
    source = createExecCredentialSource(exec, cluster);
    shared.set(key, source);
  }
  return source;
}

/**
 * The health of every exec plugin the process's clients use (see {@link ExecCredentialSource.health}): the manager's
 * `/readyz` is not ready while one is `stuck`.
 */
export function execPluginHealth(): ExecPluginHealth[] {
  return [...shared.values()].map((source) => source.health());
}

/**
 * Text from a kubeconfig made safe to print: every character but letters, marks, numbers, punctuation, symbols,
 * separators and the whitespace controls (tab, line feed, vertical tab, form feed, carriage return) is written as
 * `U+XXXX`, so a terminal escape sequence in an `installHint` is shown, not obeyed. client-go's clientcmd does the
 * same to `installHint`.
 */
export function printable(text: string): string {
  return text.replace(
    /[^\p{L}\p{M}\p{N}\p{P}\p{S}\p{Z}\t\n\v\f\r]/gu,
    (ch) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`,
  );
}

function checkConfig(exec: ExecConfig): 'Never' | 'IfAvailable' | 'Always' {
  if (!exec.command) throw new ExecCredentialError('the exec plugin has no command');
  if (!apiVersions.has(exec.apiVersion)) {
    throw new ExecCredentialError(
      `exec plugin ${printable(exec.command)}: apiVersion "${exec.apiVersion}" is not supported; use client.authentication.k8s.io/v1 or v1beta1`,
    );
  }
  const mode = exec.interactiveMode;
  if (mode === undefined) {
    if (exec.apiVersion === 'client.authentication.k8s.io/v1') {
      throw new ExecCredentialError(
        `exec plugin ${printable(exec.command)}: client.authentication.k8s.io/v1 needs interactiveMode (Never, IfAvailable or Always)`,
      );
    }
    return 'IfAvailable';
  }
  if (mode !== 'Never' && mode !== 'IfAvailable' && mode !== 'Always') {
    throw new ExecCredentialError(
      `exec plugin ${printable(exec.command)}: interactiveMode "${String(mode)}" is not one of Never, IfAvailable, Always`,
    );
  }
  return mode;
}

/** The `KUBERNETES_EXEC_INFO` value. */
function execInfo(exec: ExecConfig, cluster: ExecClusterInfo, interactive: boolean): string {
  const spec: Record<string, unknown> = { interactive };
  if (exec.provideClusterInfo) {
    spec.cluster = {
      server: cluster.server,
      ...(cluster.serverName && { 'tls-server-name': cluster.serverName }),
      ...(cluster.insecureSkipTLSVerify && { 'insecure-skip-tls-verify': true }),
      ...(cluster.caData && { 'certificate-authority-data': Buffer.from(cluster.caData).toString('base64') }),
      ...(cluster.proxyUrl && { 'proxy-url': cluster.proxyUrl }),
      ...(cluster.disableCompression && { 'disable-compression': true }),
      ...(exec.config !== undefined && { config: exec.config }),
    };
  }
  return JSON.stringify({ apiVersion: exec.apiVersion, kind: 'ExecCredential', spec });
}

function runPlugin(
  exec: ExecConfig,
  cluster: ExecClusterInfo,
  options: ExecCredentialSourceOptions,
): Promise<ExecCredential> {
  const mode = checkConfig(exec);
  const stdin = options.stdin ?? process.stdin;
  const tty = stdin.isTTY === true;
  if (mode === 'Always' && !tty) {
    throw new ExecCredentialError(
      `exec plugin ${printable(exec.command)} needs an interactive terminal (interactiveMode Always), but standard input is not a TTY`,
    );
  }
  const interactive = mode !== 'Never' && tty;
  const stderr = options.stderr ?? process.stderr;
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env) };
  for (const { name, value } of exec.env ?? []) env[name] = value;
  env.KUBERNETES_EXEC_INFO = execInfo(exec, cluster, interactive);

  return new Promise<ExecCredential>((resolvePromise, reject) => {
    const inherit = interactive && stdin === process.stdin;
    const child = spawn(exec.command, exec.args ?? [], {
      env,
      stdio: [interactive ? (inherit ? 'inherit' : 'pipe') : 'ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let failed = false;

    if (interactive && !inherit && child.stdin) {
      child.stdin.on('error', () => {
        // the plugin closed its input early: not our concern
      });
      stdin.pipe(child.stdin);
    }
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr.write(chunk);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      failed = true;
      if (child.stdin) stdin.unpipe(child.stdin);
      reject(spawnError(exec, err));
    });
    child.on('close', (code, signal) => {
      if (child.stdin) stdin.unpipe(child.stdin);
      if (failed) return;
      if (code !== 0) {
        // As client-go: the plugin's standard error went to `stderr` as it came, and stays out of the message (a
        // plugin may print a token or a one-time code there).
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        reject(
          new ExecCredentialError(
            `exec plugin ${printable(exec.command)} ${how}; its standard error was passed on to ours`,
          ),
        );
        return;
      }
      try {
        resolvePromise(parseCredential(exec, Buffer.concat(out).toString('utf8')));
      } catch (err) {
        reject(err);
      }
    });
  });
}

function spawnError(exec: ExecConfig, err: NodeJS.ErrnoException): ExecCredentialError {
  if (err.code === 'ENOENT') {
    const hint = exec.installHint ? `\n\n${printable(exec.installHint)}` : '';
    return new ExecCredentialError(
      `exec plugin ${printable(exec.command)} not found: it is not installed, or not on PATH. kubeconfig's users[].user.exec names it.${hint}`,
      { cause: err },
    );
  }
  if (err.code === 'EACCES')
    return new ExecCredentialError(`exec plugin ${printable(exec.command)} is not executable (permission denied)`, {
      cause: err,
    });
  return new ExecCredentialError(
    `exec plugin ${printable(exec.command)} could not be started: ${err.code ?? err.message}`,
    {
      cause: err,
    },
  );
}

/**
 * A kind (`Secret`) or apiVersion (`group/v1beta1`) the plugin printed, quoted only when it has that shape: the field
 * could hold anything, a token too.
 */
function shown(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  const shaped =
    typeof value === 'string' && /^([A-Z][A-Za-z0-9]{0,62}|([a-z0-9.-]{1,200}\/)?v\d+((alpha|beta)\d+)?)$/.test(value);
  return shaped ? JSON.stringify(value) : '(not shown)';
}

function parseCredential(exec: ExecConfig, stdout: string): ExecCredential {
  const bad = (what: string): ExecCredentialError =>
    new ExecCredentialError(`exec plugin ${printable(exec.command)} printed ${what}`);
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw bad(
      stdout.trim()
        ? 'something that is not JSON (expected an ExecCredential)'
        : 'nothing (expected an ExecCredential)',
    );
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw bad('JSON that is not an object (expected an ExecCredential)');
  const { apiVersion, kind, status } = doc as { apiVersion?: unknown; kind?: unknown; status?: unknown };
  if (kind !== 'ExecCredential') throw bad(`kind ${shown(kind)}, expected ExecCredential`);
  if (apiVersion !== exec.apiVersion) {
    throw bad(`apiVersion ${shown(apiVersion)}, but the kubeconfig asks for ${exec.apiVersion}`);
  }
  if (typeof status !== 'object' || status === null) throw bad('an ExecCredential without status');
  const s = status as Record<string, unknown>;
  const text = (key: string): string | undefined => {
    const value = s[key];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw bad(`an ExecCredential whose status.${key} is not a string`);
    return value;
  };
  const token = text('token');
  const certData = text('clientCertificateData');
  const keyData = text('clientKeyData');
  if (Boolean(certData) !== Boolean(keyData)) {
    throw bad(
      'an ExecCredential with only one of status.clientCertificateData and status.clientKeyData; both are needed',
    );
  }
  if (!token && !certData)
    throw bad('an ExecCredential with neither status.token nor status.clientCertificateData/clientKeyData');
  const expiry = text('expirationTimestamp');
  let expiresAt: number | undefined;
  if (expiry !== undefined) {
    expiresAt = Date.parse(expiry);
    if (Number.isNaN(expiresAt))
      throw bad('an ExecCredential whose status.expirationTimestamp is not an RFC 3339 time');
  }
  return {
    ...(token && { token }),
    ...(certData && { certData }),
    ...(keyData && { keyData }),
    ...(expiresAt !== undefined && { expiresAt }),
  };
}
