import {
  AlreadyStartedError,
  ApiError,
  ResponseDecodeError,
  ResponseTooLargeError,
  TransportError,
  WatchStalledError,
  type RequestInfo,
} from '../errors.js';
import type { Status, WatchEvent } from '../meta/types.js';
import type { StreamResponse } from '../transport/transport.js';
import { describeNetworkError } from '../transport/network-errors.js';
import type { Readable } from 'node:stream';
import type { Watch } from './resource-interface.js';
import { LineSplitter } from './line-splitter.js';
import {
  decodeWatchEvent,
  FrameSplitter,
  isProtobuf,
  ProtobufDecodeError,
  type ObjectMetaDecodeOptions,
} from '../meta/protobuf.js';

/** How many received chunks may wait for the consumer before the body is paused. */
const maxQueuedChunks = 16;

export interface WatchStreamOptions {
  request: RequestInfo;
  origin: string;
  signal?: AbortSignal | undefined;
  /** 0: no watchdog. */
  inactivityTimeoutMs?: number | undefined;
  /** The caller drops metadata.managedFields: a protobuf answer is decoded without them (JSON keeps them). */
  dropsManagedFields?: boolean | undefined;
}

/** Destroys the body when no data came for `inactivityMs` (0: never); `arm()` on each chunk starts the wait anew. */
class InactivityWatchdog {
  #timer: NodeJS.Timeout | undefined;
  /** True once it destroyed the body. */
  stalled = false;

  constructor(
    private readonly inactivityMs: number,
    private readonly body: Readable,
  ) {}

  arm(): void {
    if (this.inactivityMs <= 0) return;
    if (this.#timer) this.#timer.refresh();
    else {
      this.#timer = setTimeout(() => {
        this.stalled = true;
        this.body.destroy();
      }, this.inactivityMs);
      this.#timer.unref();
    }
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }
}

/**
 * Reads a body with 'data' events, not its async iterator (which reads and concatenates whatever is buffered and takes
 * several ticks per chunk): the chunks that arrived while the consumer was busy are taken together, after one await.
 * More than `maxQueuedChunks` waiting pauses the body, so a slow consumer holds the stream back.
 */
class ChunkReader {
  readonly #received: Buffer[] = [];
  #ended = false;
  #failure: unknown;
  #wake: (() => void) | undefined;

  constructor(
    private readonly body: Readable,
    private readonly onChunk: () => void,
  ) {
    body.on('data', this.onData);
    body.on('end', this.onEnd);
    body.on('error', this.onError);
    body.on('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.onChunk();
    this.#received.push(chunk);
    if (this.#received.length >= maxQueuedChunks) this.body.pause();
    this.#wake?.();
  };
  private readonly onEnd = (): void => {
    this.#ended = true;
    this.#wake?.();
  };
  private readonly onError = (err: unknown): void => {
    this.#failure ??= err;
    this.#wake?.();
  };
  private readonly onClose = (): void => {
    // Closed before its end without an error: destroyed (by the watchdog, or on close or abort).
    if (!this.#ended) this.#failure ??= new Error('the watch stream closed before its end');
    this.#wake?.();
  };

  /** The chunks received since the last call, once there are any; undefined at the end; throws what failed the body. */
  async take(): Promise<Buffer[] | undefined> {
    while (this.#received.length === 0 && !this.#ended && this.#failure === undefined) {
      // Every listener above wakes this up.
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
    // As the async iterator did: a failed stream drops what it had not handed out yet.
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#received.length === 0) return undefined;
    const taken = this.#received.splice(0, this.#received.length);
    if (this.body.isPaused()) this.body.resume();
    return taken;
  }

  /** Stops listening. The error listener stays: undici's body emits an error when destroyed before its end, and an unheard one would crash. */
  detach(): void {
    this.body.off('data', this.onData);
    this.body.off('end', this.onEnd);
    this.body.off('close', this.onClose);
  }
}

/**
 * One line of a watch: an event, nothing for an empty line; an in-stream ERROR event is thrown as the error it stands
 * for (see {@link watchErrorEvent}).
 */
function parseEvent<T>(line: string, request: RequestInfo): WatchEvent<T> | undefined {
  if (line.length === 0 || line === '\r') return undefined;
  const event = JSON.parse(line) as { type?: unknown; object?: unknown } | null;
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new ResponseDecodeError('the watch sent a line that is not an event object', request);
  }
  return checkEvent<T>(event, request);
}

/** A decoded event as it must be: a known type and an object; an ERROR event is thrown as its error. */
function checkEvent<T>(event: { type?: unknown; object?: unknown }, request: RequestInfo): WatchEvent<T> {
  if (event.type === 'ERROR') throw watchErrorEvent(event.object, request);
  if (typeof event.type !== 'string' || !eventTypes.has(event.type)) {
    // As client-go's watch decoder: "got invalid watch event type". The type is named only when it is short text.
    const shown = typeof event.type === 'string' && /^[A-Za-z]{1,20}$/.test(event.type) ? ` ${event.type}` : '';
    throw new ResponseDecodeError(
      `the watch sent an event of unknown type${shown} (expected ADDED, MODIFIED, DELETED, BOOKMARK or ERROR)`,
      request,
    );
  }
  const object = event.object;
  if (object === null || typeof object !== 'object' || Array.isArray(object)) {
    const what =
      object === null || object === undefined
        ? 'no object'
        : Array.isArray(object)
          ? 'an array'
          : `a JSON ${typeof object}`;
    throw new ResponseDecodeError(`the watch sent a ${event.type} event with ${what}, not an object`, request);
  }
  return event as WatchEvent<T>;
}

const eventTypes = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']);

/**
 * How a watch's bytes become events: `split` cuts chunks into units (JSON lines, protobuf frames) across chunk
 * boundaries, `parse` makes an event of a unit (nothing for an empty line), and `finish` deals with what the stream
 * left at its end.
 */
interface WatchCodec<U> {
  split(chunk: Buffer): U[];
  parse(unit: U): WatchEvent<unknown> | undefined;
  finish(): WatchEvent<unknown> | undefined;
}

/** Newline-delimited JSON, one `JSON.parse` per event; a last line without its newline is decoded at the end. */
function jsonCodec(request: RequestInfo): WatchCodec<string> {
  const lines = new LineSplitter({
    maxLineBytes: maxWatchEventBytes,
    tooLong: (max) => new ResponseTooLargeError('a watch event (one line of the stream)', max, request),
  });
  return {
    split: (chunk) => lines.push(chunk),
    parse: (line) => parseEvent(line, request),
    finish() {
      const last = lines.rest();
      return last !== undefined ? parseEvent(last.trim(), request) : undefined;
    },
  };
}

/**
 * Length-delimited protobuf frames (`application/vnd.kubernetes.protobuf;stream=watch`), each a metav1.WatchEvent:
 * what a metadata-only watch gets. A stream that ends inside a frame was cut.
 */
function protobufCodec(request: RequestInfo, options: ObjectMetaDecodeOptions): WatchCodec<Buffer> {
  const frames = new FrameSplitter({
    maxFrameBytes: maxWatchEventBytes,
    tooLong: (max) => new ResponseTooLargeError('a watch event (one frame of the stream)', max, request),
  });
  return {
    split: (chunk) => frames.push(chunk),
    parse(frame) {
      let decoded;
      try {
        decoded = decodeWatchEvent(frame, options);
      } catch (err) {
        if (!(err instanceof ProtobufDecodeError)) throw err;
        throw new ResponseDecodeError(
          `the watch sent a protobuf event that cannot be decoded: ${err.message}`,
          request,
        );
      }
      return checkEvent(decoded, request);
    },
    finish() {
      if (frames.pending() > 0) throw new TransportError('the watch stream ended inside an event (cut)', request);
      return undefined;
    },
  };
}

/** The events of each take of chunks, as one array (never empty); those before an in-stream error are yielded first. */
async function* decodeEvents<T, U>(
  reader: ChunkReader,
  codec: WatchCodec<U>,
): AsyncGenerator<WatchEvent<T>[], void, undefined> {
  for (let taken = await reader.take(); taken; taken = await reader.take()) {
    const batch: WatchEvent<T>[] = [];
    for (const chunk of taken) {
      for (const unit of codec.split(chunk)) {
        let event: WatchEvent<T> | undefined;
        try {
          event = codec.parse(unit) as WatchEvent<T> | undefined;
        } catch (err) {
          if (batch.length > 0) yield batch;
          throw err;
        }
        if (event) batch.push(event);
      }
    }
    if (batch.length > 0) yield batch;
  }
}

/**
 * The longest watch event (one JSON line) a watch reads: 16 MiB, apimachinery's limit for a decoded frame (its
 * streaming decoder fails a longer one with ErrObjectTooLarge). An object is at most about 1.5 MiB in etcd, so only
 * a broken or hostile stream sends more; the watch then fails with ResponseTooLargeError
 * (`ERR_KUBE_RESPONSE_TOO_LARGE`) and memory holds at most the limit.
 */
export const maxWatchEventBytes = 16 * 1024 * 1024;

/** The error a watch ends with, for what ended its stream. */
function watchError(err: unknown, options: WatchStreamOptions, stalled: boolean): unknown {
  if (stalled) return new WatchStalledError(options.inactivityTimeoutMs ?? 0, options.request);
  if (options.signal?.aborted) return options.signal.reason;
  if (err instanceof SyntaxError) {
    // Not the parser's message: it quotes the line, which may hold Secret data. A transport error still, as a stream
    // cut inside an event ends with a partial line.
    return new TransportError(
      'the watch stream held a line that is not JSON (cut inside an event, or not a watch)',
      options.request,
    );
  }
  if (
    err instanceof ApiError ||
    err instanceof ResponseDecodeError ||
    err instanceof ResponseTooLargeError ||
    err instanceof TransportError
  ) {
    return err;
  }
  return new TransportError(describeNetworkError(err, options.origin), options.request, { cause: err });
}

/**
 * A watch's stream decoded one take of chunks at a time: the events of each as one array (never empty). `closed` is
 * the consumer's close: the iteration then ends quietly.
 */
async function* decodeWatch<T>(
  open: (signal: AbortSignal) => Promise<StreamResponse>,
  options: WatchStreamOptions,
  signal: AbortSignal,
  closed: AbortSignal,
): AsyncGenerator<WatchEvent<T>[], void, undefined> {
  const inactivityMs = options.inactivityTimeoutMs ?? 0;
  if (closed.aborted) return;
  let res: StreamResponse;
  try {
    res = await open(signal);
  } catch (err) {
    if (closed.aborted) return;
    throw err;
  }
  const body = res.body;
  const watchdog = new InactivityWatchdog(inactivityMs, body);
  const onAbort = (): void => {
    body.destroy();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const reader = new ChunkReader(body, () => watchdog.arm());
  watchdog.arm();
  try {
    const codec: WatchCodec<string> | WatchCodec<Buffer> = isProtobuf(res.headers['content-type'])
      ? protobufCodec(options.request, { dropManagedFields: options.dropsManagedFields })
      : jsonCodec(options.request);
    yield* decodeEvents<T, string | Buffer>(reader, codec as WatchCodec<string | Buffer>);
    if (watchdog.stalled) throw new WatchStalledError(inactivityMs, options.request);
    const event = codec.finish() as WatchEvent<T> | undefined;
    if (event) yield [event];
  } catch (err) {
    if (!watchdog.stalled && closed.aborted) return;
    throw watchError(err, options, watchdog.stalled);
  } finally {
    watchdog.stop();
    signal.removeEventListener('abort', onAbort);
    reader.detach();
    if (!body.destroyed) body.destroy();
  }
}

/**
 * The error an in-stream ERROR event stands for: the ApiError of its Status, or (an object that is no Status, such as
 * `null`) a ResponseDecodeError that says so, as client-go's `FromObject` reports an unexpected object.
 */
function watchErrorEvent(object: unknown, request: RequestInfo): Error {
  if (object !== null && typeof object === 'object' && (object as Partial<Status>).kind === 'Status') {
    return ApiError.fromStatus(object as Status, request);
  }
  const what =
    object === null
      ? 'null'
      : Array.isArray(object)
        ? 'an array'
        : typeof object === 'object'
          ? 'an object that is not a Status'
          : `a JSON ${typeof object}`;
  return new ResponseDecodeError(`the watch sent an ERROR event whose object is ${what}, not a Status`, request);
}

/**
 * Decodes a watch's stream: newline-delimited JSON, split on `\n` across chunk boundaries, one `JSON.parse` per event,
 * nothing else; or, when the answer's Content-Type is Kubernetes' protobuf (a metadata-only watch), length-delimited
 * protobuf frames. Opens the stream on the first `next()`, closes it when the consumer stops.
 */
export function watchStream<T>(
  open: (signal: AbortSignal) => Promise<StreamResponse>,
  options: WatchStreamOptions,
): Watch<T> {
  const closer = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, closer.signal]) : closer.signal;
  const chunks = (): AsyncGenerator<WatchEvent<T>[], void, undefined> =>
    decodeWatch<T>(open, options, signal, closer.signal);

  async function* events(
    source: AsyncGenerator<WatchEvent<T>[], void, undefined>,
  ): AsyncGenerator<WatchEvent<T>, void, undefined> {
    try {
      for await (const batch of source) yield* batch;
    } finally {
      await source.return(undefined);
    }
  }

  let iterator: AsyncGenerator<unknown, void, undefined> | undefined;
  const claim = (): void => {
    if (iterator) throw new AlreadyStartedError('watch', 'a watch can be iterated once');
  };
  const close = (): void => {
    closer.abort();
    void iterator?.return(undefined);
  };
  return {
    [Symbol.asyncIterator]() {
      claim();
      const it = events(chunks());
      iterator = it;
      return it;
    },
    batches() {
      claim();
      const it = chunks();
      iterator = it;
      return it;
    },
    close,
    async [Symbol.asyncDispose]() {
      closer.abort();
      await iterator?.return(undefined);
    },
  };
}

/**
 * Lines of a text stream (logs), across chunk boundaries; closes the stream when the consumer stops. A line over
 * {@link maxWatchEventBytes} (16 MiB) ends the stream with ResponseTooLargeError, so an endless line cannot exhaust
 * memory.
 */
export async function* streamLines(
  open: () => Promise<StreamResponse>,
  request: RequestInfo,
  origin: string,
): AsyncGenerator<string, void, undefined> {
  const res = await open();
  const lines = new LineSplitter({
    maxLineBytes: maxWatchEventBytes,
    tooLong: (max) => new ResponseTooLargeError('a line of the stream', max, request),
  });
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) yield* lines.push(chunk);
    const last = lines.rest();
    if (last) yield last;
  } catch (err) {
    if (err instanceof ResponseTooLargeError) throw err;
    throw new TransportError(describeNetworkError(err, origin), request, { cause: err });
  } finally {
    if (!res.body.destroyed) res.body.destroy();
  }
}
