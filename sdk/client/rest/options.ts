import type { KubeObject } from '../meta/types.js';

/** Every I/O call takes these. */
export interface RequestOptions {
  /** Aborts the request; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Timeout of this request in milliseconds. Default: the RestConfig's `timeoutMs` (0: none). */
  timeoutMs?: number;
}

export interface GetOptions extends RequestOptions {
  /** `''` (default) reads the latest from etcd; `'0'` allows the watch cache's copy. */
  resourceVersion?: string;
}

export interface ListOptions extends RequestOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; the answer's `metadata.continue` fetches the next page. Default: no paging. */
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
  /** Server-side timeout for the list call, in seconds. */
  timeoutSeconds?: number;
}

export interface WatchOptions extends RequestOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Start after this resourceVersion. Default: `''`, the current state as ADDED events, then changes. */
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
  /** Ask for BOOKMARK events, which carry only a newer resourceVersion. Default: false. */
  allowWatchBookmarks?: boolean;
  /** The server ends the watch after this many seconds. Default: the server's (a few minutes). */
  timeoutSeconds?: number;
  /** WatchList: the current state as ADDED events first, then a BOOKMARK marked `k8s.io/initial-events-end`. */
  sendInitialEvents?: boolean;
  /**
   * The watch ends with a `ERR_KUBE_WATCH_STALLED` error when nothing (not even a bookmark) arrives for this long.
   * Default: 0, no limit; informers set it.
   */
  inactivityTimeoutMs?: number;
}

export type DryRun = readonly 'All'[];

export interface WriteOptions extends RequestOptions {
  /** `['All']`: validate and admit, but store nothing. */
  dryRun?: DryRun;
  /** Name of the actor for managedFields. */
  fieldManager?: string;
  /** What the server does with unknown or duplicate fields. Default: the server's (`Warn`). */
  fieldValidation?: 'Ignore' | 'Warn' | 'Strict';
}

export type CreateOptions = WriteOptions;
export type UpdateOptions = WriteOptions;

/** `json` (RFC 6902), `merge` (RFC 7386), `strategic` (built-in kinds only), `apply` (server-side apply). */
export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export interface PatchOptions extends WriteOptions {
  patchType: PatchType;
  /** With `apply`: take ownership of conflicting fields. */
  force?: boolean;
}

export interface ApplyOptions extends RequestOptions {
  fieldManager: string;
  /** Take ownership of fields another manager owns instead of failing with 409. Default: false. */
  force?: boolean;
  dryRun?: DryRun;
  fieldValidation?: 'Ignore' | 'Warn' | 'Strict';
}

export interface DeleteOptions extends RequestOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: DryRun;
}

/** deleteCollection takes one options object: which objects (list options) and how (delete options). */
export interface DeleteCollectionOptions extends Omit<ListOptions, 'continue' | 'limit'>, DeleteOptions {}

/** One RFC 6902 operation. */
export type JsonPatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

/** A partial object, any depth: merge and strategic patches. */
export type DeepPartial<T> = T extends readonly (infer U)[]
  ? DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> | null }
    : T;

/** What a server-side apply sends: a partial object that names itself (apiVersion, kind, name). */
export type ApplyConfiguration<T extends KubeObject> = DeepPartial<T> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string } & DeepPartial<NonNullable<T['metadata']>>;
};

/** The body a patch of this type takes. */
export type PatchBody<T extends KubeObject, P extends PatchType> = P extends 'json'
  ? JsonPatchOperation[]
  : P extends 'apply'
    ? ApplyConfiguration<T>
    : DeepPartial<T>;

/** Options of `getLogs` (pods/log). Undefined fields are not sent. */
export interface GetLogsOptions extends RequestOptions {
  /** The container to read; may be left out when the pod has one container. */
  container?: string;
  /** Keep streaming new lines until the container ends or the iteration stops. Default: false. */
  follow?: boolean;
  /** The logs of the previous, terminated instance of the container. Default: false. */
  previous?: boolean;
  /** Only lines newer than this many seconds. Excludes `sinceTime`. */
  sinceSeconds?: number;
  /** Only lines after this RFC 3339 time. Excludes `sinceSeconds`. */
  sinceTime?: string;
  /** Only the last lines, this many. */
  tailLines?: number;
  /** Prefix each line with its RFC 3339 timestamp. Default: false. */
  timestamps?: boolean;
  /** Stop after about this many bytes. */
  limitBytes?: number;
  /** `All` (default), `Stdout` or `Stderr`. */
  stream?: 'All' | 'Stdout' | 'Stderr';
  /** Do not verify the kubelet's serving certificate. Default: false. */
  insecureSkipTLSVerifyBackend?: boolean;
}
