/**
 * The Kubernetes channel protocol over WebSocket (`v5.channel.k8s.io`, `v4.channel.k8s.io`): every binary message
 * starts with one byte naming its channel. Exec and attach use channels 0 (stdin), 1 (stdout), 2 (stderr), 3 (the error
 * channel, which carries the command's metav1.Status as JSON) and 4 (terminal resize, JSON `{Width, Height}`); v5 adds
 * the close signal, a message `[255, channel]` that half-closes a channel (stdin at EOF). Port-forward uses two
 * channels per requested port: data on `2i`, errors on `2i + 1`, each starting with the port as two little-endian
 * bytes.
 */
import { StreamError, type RequestInfo } from '../errors.js';
import type { Status } from '../meta/types.js';

export const v5ChannelProtocol = 'v5.channel.k8s.io';
export const v4ChannelProtocol = 'v4.channel.k8s.io';
/** Exec and attach: v5 first, for the close signal; v4 servers cannot half-close stdin. */
export const remoteCommandProtocols = [v5ChannelProtocol, v4ChannelProtocol] as const;
/** Port-forward, as the kubelet serves it over WebSocket (passed through by the API server). */
export const portForwardProtocols = [v4ChannelProtocol, 'portforward.k8s.io'] as const;

export const stdinChannel = 0;
export const stdoutChannel = 1;
export const stderrChannel = 2;
export const errorChannel = 3;
export const resizeChannel = 4;
/** v5: a message `[closeSignal, channel]` says the client will send no more on `channel`. */
export const closeSignal = 255;

/** The largest payload put in one message: what the kubelet sends, so frames are the same size both ways. */
export const maxFramePayloadBytes = 32 * 1024;

/** One message: the channel byte, then `payload`. */
export function frame(channel: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(payload.length + 1);
  out[0] = channel;
  out.set(payload, 1);
  return out;
}

/** `data` as messages on `channel` of at most {@link maxFramePayloadBytes} payload each. */
export function frames(channel: number, data: Uint8Array): Buffer[] {
  if (data.length <= maxFramePayloadBytes) return [frame(channel, data)];
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += maxFramePayloadBytes) {
    out.push(frame(channel, data.subarray(at, at + maxFramePayloadBytes)));
  }
  return out;
}

/** The v5 close signal for `channel`. */
export function closeFrame(channel: number): Buffer {
  return Buffer.of(closeSignal, channel);
}

/** A terminal size on the resize channel, as kubectl sends it. */
export function resizeFrame(size: TerminalSize): Buffer {
  return frame(resizeChannel, Buffer.from(JSON.stringify({ Width: size.width, Height: size.height })));
}

/** A terminal's size in character cells. */
export interface TerminalSize {
  width: number;
  height: number;
}

/**
 * The exit code that the error channel's Status stands for: `Success` is 0; a `NonZeroExitCode` failure is the
 * number in its `ExitCode` cause. Any other Status (the command was not found, the container is not running) is a
 * StreamError `ERR_KUBE_REMOTE_COMMAND` carrying the Status; bytes that are not a Status are
 * `ERR_KUBE_STREAM_PROTOCOL`.
 */
export function exitCodeOf(text: string, request: RequestInfo): number {
  let status: Status;
  try {
    status = JSON.parse(text) as Status;
  } catch (err) {
    throw new StreamError(
      'ERR_KUBE_STREAM_PROTOCOL',
      `the error channel sent ${text.length} characters that are not a JSON Status`,
      request,
      { cause: err },
    );
  }
  if (status === null || typeof status !== 'object') {
    throw new StreamError('ERR_KUBE_STREAM_PROTOCOL', 'the error channel sent JSON that is not a Status', request);
  }
  if (status.status === 'Success') return 0;
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code)) return code;
  }
  throw new StreamError(
    'ERR_KUBE_REMOTE_COMMAND',
    `the command failed: ${status.message ?? status.reason ?? 'no message'}`,
    request,
    { status },
  );
}
