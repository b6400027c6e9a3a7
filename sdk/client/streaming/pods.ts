/**
 * The streaming methods of the typed pods client (`cs.coreV1().pods(ns)`): exec, attach, port-forward, followed logs
 * and cp, bound to one ResourceInterface. The generated client lists them (see `codegen/kubernetes.ts`); this module
 * makes them.
 */
import { defaultMaxResponseBytes } from '../config/types.js';
import { ArgumentError, type RequestInfo } from '../errors.js';
import { connectTargetOf, type ConnectTarget } from '../rest/resource.js';
import type { ResourceInterface } from '../rest/resource-interface.js';
import type { KubeObject } from '../meta/types.js';
import type { GetLogsOptions } from '../rest/options.js';
import {
  copyFromPod,
  copyToPod,
  type CopyFromPodOptions,
  type CopyFromPodResult,
  type CopyToPodOptions,
} from './copy.js';
import {
  openPortForward,
  startPortForward,
  type PortForward,
  type PortForwardOptions,
  type PortForwardStream,
  type PortForwardStreamOptions,
} from './port-forward.js';
import {
  collectOutput,
  remoteCommandQuery,
  startRemoteCommand,
  type AttachStreamOptions,
  type ExecOptions,
  type ExecResult,
  type ExecStream,
  type ExecStreamOptions,
  type RemoteCommandOptions,
} from './remote-command.js';

/** Options of `streamLogs`: those of `getLogs`, with `follow` on by default. */
export interface StreamLogsOptions extends Omit<GetLogsOptions, 'timeoutMs'> {
  /** Keep streaming new lines until the container ends or the signal aborts. Default: true. */
  follow?: boolean;
}

/** Options of the buffered `attach`: the output until the container's process ends (or the signal aborts). */
export interface AttachOptions extends RemoteCommandOptions {
  /** Sent to stdin, which is then closed. Default: no stdin. */
  input?: string | Uint8Array;
  /** Past this many bytes of stdout plus stderr the call fails with ERR_KUBE_RESPONSE_TOO_LARGE. Default: 256 MiB. */
  maxOutputBytes?: number;
}

type AnyResource = ResourceInterface<KubeObject>;

function targetOf(ri: AnyResource, name: string, subresource: string): ConnectTarget {
  if (typeof name !== 'string' || name === '') throw new ArgumentError('the pod name must not be empty');
  const target = connectTargetOf(ri, name, subresource);
  if (!target) {
    throw new ArgumentError(
      `pods/${subresource} needs a client connected to an API server (made from a RestConfig); this client has none`,
    );
  }
  return target;
}

function info(target: ConnectTarget): RequestInfo {
  return { method: 'GET', path: target.path };
}

function remoteCommand(
  ri: AnyResource,
  name: string,
  subresource: 'exec' | 'attach',
  options: ExecStreamOptions | AttachStreamOptions,
  command: readonly string[] | undefined,
): ExecStream {
  const target = targetOf(ri, name, subresource);
  const { query, channels } = remoteCommandQuery(options, command);
  return startRemoteCommand(
    { transport: target.transport, path: `${target.path}?${query}`, request: info(target) },
    channels,
    options.signal,
  );
}

/** `execStream(name, options)`: see {@link ExecStream}. */
export function execStream(ri: AnyResource, name: string, options: ExecStreamOptions): ExecStream {
  if (!options || typeof options !== 'object') throw new ArgumentError('execStream needs options with a command');
  return remoteCommand(ri, name, 'exec', options, options.command);
}

/** `attachStream(name, options)`: the container's own process, as {@link ExecStream}. */
export function attachStream(ri: AnyResource, name: string, options: AttachStreamOptions = {}): ExecStream {
  return remoteCommand(ri, name, 'attach', options, undefined);
}

/** `exec(name, options)`: runs the command to its end and collects its output. */
export async function exec(ri: AnyResource, name: string, options: ExecOptions): Promise<ExecResult> {
  if (!options || typeof options !== 'object') throw new ArgumentError('exec needs options with a command');
  const { input, maxOutputBytes = defaultMaxResponseBytes, ...rest } = options;
  const session = execStream(ri, name, { ...rest, stdin: input !== undefined });
  return collectOutput(session, input, maxOutputBytes, info(targetOf(ri, name, 'exec')));
}

/** `attach(name, options)`: the container's output until its process ends. */
export async function attach(ri: AnyResource, name: string, options: AttachOptions = {}): Promise<ExecResult> {
  const { input, maxOutputBytes = defaultMaxResponseBytes, ...rest } = options;
  const session = attachStream(ri, name, { ...rest, stdin: input !== undefined });
  return collectOutput(session, input, maxOutputBytes, info(targetOf(ri, name, 'attach')));
}

/** `portForwardStream(name, { ports })`: one connection per port, as Duplex streams. */
export function portForwardStream(ri: AnyResource, name: string, options: PortForwardStreamOptions): PortForwardStream {
  const target = targetOf(ri, name, 'portforward');
  return openPortForward({ ...target, request: info(target) }, options);
}

/** `portForward(name, { ports })`: local listeners, like kubectl port-forward. */
export function portForward(ri: AnyResource, name: string, options: PortForwardOptions): Promise<PortForward> {
  const target = targetOf(ri, name, 'portforward');
  return startPortForward({ ...target, request: info(target) }, options);
}

/**
 * `streamLogs(name, options)`: the log as lines, followed by default. The iteration ends when the container ends,
 * when the loop is left, or quietly when the signal aborts; a connection that breaks ends it with a TransportError, a
 * line over 16 MiB with ResponseTooLargeError.
 */
export async function* streamLogs(
  ri: AnyResource,
  name: string,
  options: StreamLogsOptions = {},
): AsyncGenerator<string, void, undefined> {
  const { signal, follow = true, ...rest } = options;
  const params: Record<string, string | number | boolean | undefined> = { follow };
  for (const [key, value] of Object.entries(rest)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') params[key] = value;
  }
  try {
    yield* ri.streamSubresource(name, 'log', { ...(signal && { signal }), params });
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  }
}

/** `copyToPod(name, options)`: `kubectl cp local pod:path`. */
export function copyToPodOf(ri: AnyResource, name: string, options: CopyToPodOptions): Promise<void> {
  const target = targetOf(ri, name, 'exec');
  const start = (command: string[], stdin: boolean): ExecStream =>
    execStream(ri, name, {
      command,
      stdin,
      ...(options.container && { container: options.container }),
      ...(options.signal && { signal: options.signal }),
    });
  return copyToPod(start, options, info(target));
}

/** `copyFromPod(name, options)`: `kubectl cp pod:path local`. */
export function copyFromPodOf(ri: AnyResource, name: string, options: CopyFromPodOptions): Promise<CopyFromPodResult> {
  const target = targetOf(ri, name, 'exec');
  const start = (command: string[], stdin: boolean): ExecStream =>
    execStream(ri, name, {
      command,
      stdin,
      ...(options.container && { container: options.container }),
      ...(options.signal && { signal: options.signal }),
    });
  return copyFromPod(start, options, info(target));
}
