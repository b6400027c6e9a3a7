/**
 * Every `code` a kubeloop error carries, and what it means: the one list (tRPC's `rpc/codes.ts` is the model). The
 * README's "Error codes" section repeats it and `test/unit/error-codes.test.ts` keeps the two equal; the same test
 * fails on a `throw new Error(…)` in sdk/ that carries no code.
 *
 * To add a code: add it here with one line on when it is thrown, and to the README's list.
 */
export const errorCodes = {
  // any package
  ERR_KUBE_INVALID_ARGUMENT:
    'a function, constructor or option was given a value it cannot use; the message names it (ArgumentError, a TypeError, or ArgumentRangeError, a RangeError)',
  ERR_KUBE_ALREADY_STARTED:
    'something that runs once (a controller, manager, informer, reflector, leader elector, webhook server, watch iterator) was started again (AlreadyStartedError names it)',
  ERR_KUBE_NOT_STARTED:
    'something was used before it was started: a cached read before the manager runs, a webhook readiness check before it listens',
  // kubeloop/client
  ERR_KUBE_API: 'the API server answered with a non-2xx status (ApiError)',
  ERR_KUBE_CONFIG: 'a kubeconfig, in-cluster environment or RestConfig is unusable (ConfigError)',
  ERR_KUBE_TRANSPORT:
    'the request never got an answer: TLS, DNS, connection refused or reset, timeout (TransportError)',
  ERR_KUBE_DECODE:
    'a 2xx answer whose body cannot be read: not JSON, truncated, empty or null, or a watch ERROR event without a Status (ResponseDecodeError)',
  ERR_KUBE_RESPONSE_TOO_LARGE:
    'a response body over RestConfig.maxResponseBytes once gzip-decoded, or a watch event or log line over 16 MiB; reading stopped at the limit (ResponseTooLargeError)',
  ERR_KUBE_WATCH_STALLED: 'a watch stream went silent longer than its inactivity limit (WatchStalledError)',
  ERR_KUBE_STREAM_PROTOCOL:
    'exec, attach or port-forward: the server agreed to no channel protocol kubeloop speaks, or sent a frame it cannot read (StreamError)',
  ERR_KUBE_STREAM_BROKEN:
    'exec, attach, port-forward or a followed log: the connection ended before the stream did (no exit status, a port cut off) (StreamError)',
  ERR_KUBE_REMOTE_COMMAND:
    'exec or attach: the error channel reported a failure that is not an exit code, such as a command not found (StreamError, with the Status)',
  ERR_KUBE_PORT_FORWARD:
    "port-forward: the kubelet reported an error on a port's error channel, or a local port could not be listened on (StreamError)",
  ERR_KUBE_COPY:
    'cp: an archive from the container holds a path outside the destination (path traversal) or a link, or tar in the container failed (StreamError)',
  ERR_KUBE_EXEC: 'an exec credential plugin could not be run or gave no usable credential (ExecCredentialError)',
  ERR_KUBE_DISCOVERY_FAILED:
    'discovery of some group-versions failed; the error carries what succeeded (GroupDiscoveryFailedError)',
  ERR_KUBE_DISCOVERY_STALE: 'an aggregated API reported itself stale in discovery (StaleGroupVersionError)',
  ERR_KUBE_NO_MATCH: 'the RESTMapper knows no resource or kind by that name, even after a refresh (NoMatchError)',
  ERR_KUBE_AMBIGUOUS_MATCH: 'a short name stands for several different resources (AmbiguousMatchError)',
  ERR_KUBE_INVALID_SELECTOR:
    'a label or field selector does not parse, or a cached list was given a field selector it cannot answer (InvalidSelectorError, also exported by kubeloop/cache)',
  ERR_KUBE_INVALID_QUANTITY:
    'a resource quantity does not parse, or is too large to compute with exactly (QuantityError)',
  // kubeloop/cache
  ERR_KUBE_INFORMER_STARTED: 'an informer was configured (setTransform) after it started',
  ERR_KUBE_INFORMER_STOPPED: 'a handler was added to an informer that has stopped',
  ERR_KUBE_INFORMER_SOURCE:
    'createSharedInformerFactory was given neither a Clientset, a RestConfig, a resource-client factory nor a DynamicClient (InformerSourceError)',
  ERR_KUBE_FIFO_CLOSED: 'a DeltaFIFO was closed and is empty: pop has nothing more to hand out (DeltaFIFOClosedError)',
  ERR_KUBE_FIFO_REQUEUE: "a DeltaFIFO's process asked for its deltas to be queued again (RequeueError)",
  // kubeloop/envtest
  ERR_ENVTEST: 'the local control plane could not be built, started or stopped (EnvtestError)',
  // kubeloop/manager
  ERR_TERMINAL: 'a reconcile error that is not retried (TerminalError)',
  ERR_MANAGER_REGISTRATION:
    'a controller, webhook, runnable or dependency registered after the manager started, twice, or without what it needs',
  ERR_MANAGER_OPTIONS: "the manager's options cannot work",
  ERR_MANAGER_API_SERVER_UNREACHABLE:
    "the manager's liveness check: nothing came from the API server for longer than liveness.apiServerUnreachableMs (/healthz fails)",
  ERR_CACHE_OPTIONS: 'the cache options hold two byObject entries for one resource',
  ERR_CACHE_METADATA_ONLY:
    'a full read of a resource that the cache holds only as metadata, with that fallback turned off',
  ERR_CACHE_MISSING_INFORMER: 'a cached read of a resource no informer caches, with readerFailOnMissingInformer set',
  ERR_CACHE_MISSING_INDEX: 'a list by a field that has no field index (the manager cache and the fake client)',
  ERR_CACHE_INDEX_CONFLICT: 'a field index registered twice for one resource',
  ERR_CACHE_NOT_SYNCED:
    "the caches did not sync: a controller's cache-sync timeout passed, or the informers readiness check failed",
  ERR_CONTROLLER_STOPPED:
    'a source was added to a controller that has stopped (watch() works before start and while it runs)',
  ERR_READ_YOUR_WRITES_TIMEOUT:
    'a cached read after a write waited longer than its limit for the cache to reach that write',
  ERR_ALREADY_OWNED: 'controllerutil: the object already has another controller owner (AlreadyOwnedError)',
  ERR_INVALID_OWNER_REFERENCE:
    'controllerutil: the owner cannot own the object (another namespace, no uid) (OwnerReferenceError)',
  ERR_MUTATE_CHANGED_KEY:
    "controllerutil: createOrUpdate's mutate function changed the object's name or namespace (MutateKeyError)",
  ERR_UNKNOWN_RESOURCE: 'controllerutil: the object is of no resource the client knows (UnknownResourceError)',
  ERR_EVENT_RECORDER_OPTIONS: "the event recorder's options cannot work",
  ERR_EVENT_RECORDER_STOPPED: 'the event recorder was shut down',
  ERR_INVALID_BIND_ADDRESS: 'a metrics, probe or webhook bind address does not parse (BindAddressError)',
  ERR_LISTEN: 'a metrics, probe or webhook server cannot listen: the port is taken or not allowed',
  ERR_METRICS_CERTIFICATE: "the metrics server's certificate files exist but do not load as a pair",
  ERR_METRICS_AUTH: 'a TokenReview or SubjectAccessReview of a metrics scrape could not be made (answered 500, logged)',
  ERR_HEALTH_CHECK_TIMEOUT:
    'a health or readiness check did not answer within its timeout (the reason of its aborted signal)',
  ERR_SIGNAL: "the process received SIGINT or SIGTERM (the reason of setupSignalHandler's signal, SignalReceivedError)",
  // kubeloop/leaderelection
  ERR_LEADER_ELECTION_CONFIG: 'leader election options that cannot work (LeaderElectionError)',
  ERR_LEADER_ELECTION_LOCK: 'a read or write of the leader election lock failed (LeaderElectionError)',
  ERR_LEADER_ELECTION_LOST:
    'leadership was lost: the lease was not renewed in time or another candidate holds it (LeaderElectionError)',
  // kubeloop/webhook
  ERR_WEBHOOK_VALIDATION: 'a validator denied an object; sent as 422 Invalid (ValidationError)',
  ERR_WEBHOOK_OPTIONS: "a webhook's or the certificate provisioner's options cannot work (WebhookError)",
  ERR_WEBHOOK_REGISTRATION: 'a webhook path or kind registered twice, or a class without its methods (WebhookError)',
  ERR_WEBHOOK_CERTIFICATE:
    "the webhook server's certificate files are missing or do not form a pair, or the certificate provisioner cannot write its Secret",
  ERR_WEBHOOK_CA_BUNDLE: 'the certificate provisioner cannot set the caBundle of a webhook configuration or CRD',
  ERR_WEBHOOK_TIMEOUT: 'a webhook handler did not answer within its timeout (the reason of its aborted signal)',
  ERR_WEBHOOK_CALLER_GONE:
    "the caller closed the connection before the webhook answered (the reason of the handler's aborted signal)",
  ERR_WEBHOOK_NOT_READY:
    "the webhook server's readiness check: the server does not complete a TLS handshake with itself",
  ERR_WEBHOOK_CONVERSION: "a conversion between two versions that the kind's conversion does not know",
  // the kubeloop command
  ERR_CLI_USAGE: 'the kubeloop command: bad arguments (CliError)',
  ERR_CLI_PROJECT: 'the kubeloop command: no kubeloop project here, or a broken one (CliError)',
  ERR_CLI_MANIFESTS: 'the kubeloop command: a resource or reconciler cannot become a CRD or RBAC rule (CliError)',
  ERR_CLI_INSTALL: 'the kubeloop command: npm install of a new project failed (CliError)',
} as const;

/** One of kubeloop's error codes: the type of `KubeloopError.code`. */
export type ErrorCode = keyof typeof errorCodes;
