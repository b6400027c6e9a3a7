/**
 * What a client needs to reach one API server as one identity: client-go's rest.Config, in TypeScript.
 * Certificates and keys are PEM text. Every field is optional but `host`.
 */
export interface RestConfig {
  /**
   * Base URL of the API server, e.g. `https://127.0.0.1:6443`. A path part is kept as a prefix. The config is used as
   * given: credentials set here go to an `http://` host too (as with client-go's rest.Config); `loadConfig` is what
   * leaves them out for a server that is not `https://`.
   */
  host: string;

  /** PEM bundle of the certificate authorities that sign the server's certificate. Default: the system roots. */
  caData?: string;
  /**
   * The file `caData` comes from (kubeconfig `certificate-authority`, the in-cluster `ca.crt`). When set, the file is
   * the source: the transport reads it before the first request, looks at it again at most once a second, and new
   * connections use what it holds now; `caData` is the content at load time, used only while the file cannot be read,
   * is empty or holds no certificate. Replace both (or drop `caFile`) to use another CA.
   */
  caFile?: string;
  /** PEM client certificate, for x509 client authentication; needs `keyData`. */
  certData?: string;
  /** PEM private key of `certData`. */
  keyData?: string;
  /**
   * The files `certData` and `keyData` come from (kubeconfig `client-certificate` and `client-key`); both or neither.
   * When set, they are the source, re-read as `caFile` is; when the pair changes, pooled connections made with the
   * old one are closed (requests in flight finish; watches and log streams are cut, and restart with the new pair).
   */
  certFile?: string;
  /** The file `keyData` comes from (kubeconfig `client-key`); set together with `certFile`. */
  keyFile?: string;
  /** Name to verify the server's certificate against (SNI), when it differs from `host`'s name. */
  serverName?: string;
  /** Skip verification of the server's certificate. Never the default: set it only on purpose. */
  insecureSkipTLSVerify?: boolean;

  /** A bearer token sent as `Authorization: Bearer …`. */
  bearerToken?: string;
  /** A file holding the bearer token; re-read periodically, since projected tokens rotate. Wins over `bearerToken`. */
  bearerTokenFile?: string;
  /** HTTP basic authentication (rarely enabled on real clusters); sent only when `username` is set, as in client-go. */
  username?: string;
  password?: string;
  /**
   * An exec credential plugin (client.authentication.k8s.io) that prints a token or a client certificate. Run only
   * when no `bearerToken`, `bearerTokenFile`, `username` or `certData` is set, as in client-go.
   */
  exec?: ExecConfig;
  /** Act as another user: `Impersonate-User`, `-Uid`, `-Group`, `-Extra-*` headers. */
  impersonate?: ImpersonationConfig;

  /** Proxy for every request (`http://`, `https://` or `socks5://`). Default: `HTTPS_PROXY`/`NO_PROXY`. */
  proxyUrl?: string;
  /** User-Agent header. Default: `kubeloop/<version> (<platform>/<arch>) node/<version>`. */
  userAgent?: string;
  /** Client-side rate limit, requests per second. Default: none (0), as the server does flow control. */
  qps?: number;
  /** Burst of the client-side rate limit. Default: `qps`. */
  burst?: number;
  /** Timeout of a single request (not a watch), in milliseconds. Default: 0, no timeout beyond the signal. */
  timeoutMs?: number;
  /**
   * Receives the text of each `Warning` header the server sends (deprecated APIs, unknown fields). Default: each
   * distinct warning once per process through `process.emitWarning` (type `KubernetesWarning`).
   */
  warningHandler?: (warning: string) => void;
  /**
   * Ask the server for uncompressed responses (kubeconfig `disable-compression`). Default: false: responses may be
   * gzip-compressed (the API server compresses those over 128 KiB), which saves bandwidth and costs CPU on both ends;
   * set it for clients on a fast network, such as a controller in the cluster. Watches are never compressed.
   */
  disableCompression?: boolean;
  /**
   * Largest response body a request reads, in bytes, after gzip decoding: a larger one fails with
   * `ERR_KUBE_RESPONSE_TOO_LARGE` (ResponseTooLargeError) as soon as it passes the limit, so a gzip bomb or an endless
   * body cannot exhaust memory. Default: {@link defaultMaxResponseBytes} (256 MiB). The API server caps one object at
   * about 1.5 MiB (etcd) and a request body at 3 MiB, but a LIST has no cap; a buffered body cannot exceed V8's
   * largest string (512 MiB) anyway, and parsing it takes several times its size. List more than this in pages
   * (`limit` and `continue`), or raise the limit. 0 turns the limit off. An error answer (non-2xx) is read up to
   * 1 MiB at most; a longer one is the ApiError of its status code without the body. Watches and log streams are
   * not buffered: a watch event's or log line's limit is its own (16 MiB, see `watch`).
   */
  maxResponseBytes?: number;
  /**
   * How often each HTTP/2 connection to the API server is PINGed, in ms. A connection whose PING is not acknowledged
   * by the next one is closed: its requests fail (a GET is retried on a new connection), so a connection that went
   * silent without FIN or RST (a NAT or load balancer dropped it, a node vanished) is found within twice this
   * (30 s by default; client-go's read-idle 30 s plus PING timeout 15 s is 45 s). Watches' connections are PINGed
   * too. Default: {@link defaultPingIntervalMs} (15 s). 0 turns the PINGs off (then only a request's timeout, which
   * moves the next requests to a new connection, or a watch's inactivity watchdog notices). Not through a proxy.
   */
  pingIntervalMs?: number;
}

/** The default of {@link RestConfig.pingIntervalMs}: 15 s. */
export const defaultPingIntervalMs = 15_000;

/** The default of {@link RestConfig.maxResponseBytes}: 256 MiB. */
export const defaultMaxResponseBytes = 256 * 1024 * 1024;

/** An exec credential plugin, as in a kubeconfig's `users[].user.exec`. */
export interface ExecConfig {
  /** The program to run; a relative path with a slash resolves against the kubeconfig's folder. */
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  /** `client.authentication.k8s.io/v1` or `client.authentication.k8s.io/v1beta1`. */
  apiVersion: string;
  /** Pass the cluster's server, CA and extensions in `KUBERNETES_EXEC_INFO`. */
  provideClusterInfo?: boolean;
  /** `Never`, `IfAvailable` or `Always`: whether the plugin may read standard input. */
  interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
  /** Shown when the command is not found. */
  installHint?: string;
  /** The cluster's `extensions[client.authentication.k8s.io/exec]`, passed on with provideClusterInfo. */
  config?: unknown;
}

/** Who to act as (`kubectl --as`). */
export interface ImpersonationConfig {
  userName?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}
