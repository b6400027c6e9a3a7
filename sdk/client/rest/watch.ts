import { AlreadyStartedError, ApiError, ResponseDecodeError, TransportError, WatchStalledError, type RequestInfo } from '../errors.js';
import type { Status, WatchEvent } from '../meta/types.js';
import type { StreamResponse } from '../transport/transport.js';
import { describeNetworkError } from '../transport/network-errors.js';
import type { Watch } from './resource-interface.js';

/** How many received chunks may wait for the consumer before the body is paused. */
const maxQueuedChunks = 16;

export interface WatchStreamOptions {
  request: RequestInfo;
  origin: string;
  signal?: AbortSignal | undefined;
  /** 0: no watchdog. */
  inactivityTimeoutMs?: number | undefined;
}

/**
 * The error an in-stream ERROR event stands for: the ApiError of its Status, or (an object that is no Status, such as
 * `null`) a ResponseDecodeError that says so, as client-go's `FromObject` reports an unexpected object.
 */
function watchErrorEvent(object: unknown, request: RequestInfo): Error {
  if (object !== null && typeof object === 'object' && (object as Partial<Status>).kind === 'Status') {
    return ApiError.fromStatus(object as Status, request);
  }
  const what = object === null ? 'null' : Array.isArray(object) ? 'an array' : typeof object === 'object' ? 'an object that is not a Status' : `a JSON ${typeof object}`;
  return new ResponseDecodeError(`the watch sent an ERROR event whose object is ${what}, not a Status`, request);
}

/**
 * Decodes a watch's newline-delimited JSON stream: split on `\n` across chunk boundaries, one `JSON.parse` per event,
 * nothing else. Opens the stream on the first `next()`, closes it when the consumer stops.
 */
export function watchStream<T>(
  open: (signal: AbortSignal) => Promise<StreamResponse>,
  options: WatchStreamOptions,
): Watch<T> {
  const closer = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, closer.signal]) : closer.signal;
  const inactivityMs = options.inactivityTimeoutMs ?? 0;

  /** The stream decoded one chunk at a time: the events of each chunk as one array (never empty). */
  async function* chunks(): AsyncGenerator<WatchEvent<T>[], void, undefined> {
    if (closer.signal.aborted) return;
    let res: StreamResponse;
    try {
      res = await open(signal);
    } catch (err) {
      if (closer.signal.aborted) return;
      throw err;
    }
    const body = res.body;
    let stalled = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      if (inactivityMs <= 0) return;
      if (timer) timer.refresh();
      else {
        timer = setTimeout(() => {
          stalled = true;
          body.destroy();
        }, inactivityMs);
        timer.unref();
      }
    };
    const onAbort = (): void => {
      body.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // The body is read with 'data' events, not its async iterator (which reads and concatenates whatever is buffered
    // and takes several ticks per chunk): the chunks that arrived while the consumer was busy are decoded together,
    // after one await. More than `maxQueuedChunks` waiting pauses the body, so a slow consumer holds the stream back.
    const received: Buffer[] = [];
    let ended = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const onData = (chunk: Buffer): void => {
      arm();
      received.push(chunk);
      if (received.length >= maxQueuedChunks) body.pause();
      wake?.();
    };
    const onEnd = (): void => {
      ended = true;
      wake?.();
    };
    const onError = (err: unknown): void => {
      failure ??= err;
      wake?.();
    };
    const onClose = (): void => {
      // Closed before its end without an error: destroyed (by the watchdog, or on close or abort).
      if (!ended) failure ??= new Error('the watch stream closed before its end');
      wake?.();
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
    arm();
    try {
      // Newline-delimited JSON, split on the raw bytes: a newline byte never occurs inside a multi-byte UTF-8
      // character, so each complete line is decoded once, straight from the chunk it lies in. Only a line split
      // across chunks is joined first.
      let carry: Buffer[] = [];
      let batch: WatchEvent<T>[] = [];
      const parse = (line: string): WatchEvent<T> | undefined => {
        if (line.length === 0 || line === '\r') return undefined;
        const event = JSON.parse(line) as { type: string; object: unknown };
        if (event.type === 'ERROR') throw watchErrorEvent(event.object, options.request);
        return event as WatchEvent<T>;
      };
      for (;;) {
        if (received.length === 0 && !ended && failure === undefined) {
          // Every listener above wakes this up.
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        // As the async iterator did: a failed stream drops what it had not handed out yet.
        if (failure !== undefined) throw failure;
        if (received.length === 0) break;
        const taken = received.splice(0, received.length);
        if (body.isPaused()) body.resume();
        for (const chunk of taken) {
          let start = 0;
          for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
            let line: string;
            if (carry.length > 0) {
              carry.push(chunk.subarray(start, nl));
              line = Buffer.concat(carry).toString('utf8');
              carry = [];
            } else {
              line = chunk.toString('utf8', start, nl);
            }
            start = nl + 1;
            let event: WatchEvent<T> | undefined;
            try {
              event = parse(line);
            } catch (err) {
              // Events before an in-stream error are delivered first.
              if (batch.length > 0) yield batch;
              batch = [];
              throw err;
            }
            if (event) batch.push(event);
          }
          if (start < chunk.length) carry.push(chunk.subarray(start));
        }
        if (batch.length > 0) {
          const full = batch;
          batch = [];
          yield full;
        }
      }
      if (stalled) throw new WatchStalledError(inactivityMs, options.request);
      const event = carry.length > 0 ? parse(Buffer.concat(carry).toString('utf8').trim()) : undefined;
      if (event) yield [event];
    } catch (err) {
      if (stalled) throw new WatchStalledError(inactivityMs, options.request);
      if (closer.signal.aborted) return;
      if (options.signal?.aborted) throw options.signal.reason;
      if (err instanceof SyntaxError) {
        // Not the parser's message: it quotes the line, which may hold Secret data. A transport error still, as a
        // stream cut inside an event ends with a partial line.
        throw new TransportError('the watch stream held a line that is not JSON (cut inside an event, or not a watch)', options.request);
      }
      if (err instanceof ApiError || err instanceof ResponseDecodeError) throw err;
      throw new TransportError(describeNetworkError(err, options.origin), options.request, { cause: err });
    } finally {
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onClose);
      // `onError` stays: undici's body emits an error when destroyed before its end, and an unheard one would crash.
      if (!body.destroyed) body.destroy();
    }
  }

  async function* events(source: AsyncGenerator<WatchEvent<T>[], void, undefined>): AsyncGenerator<WatchEvent<T>, void, undefined> {
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

/** Lines of a text stream (logs), across chunk boundaries; closes the stream when the consumer stops. */
export async function* streamLines(
  open: () => Promise<StreamResponse>,
  request: RequestInfo,
  origin: string,
): AsyncGenerator<string, void, undefined> {
  const res = await open();
  const decoder = new TextDecoder();
  let pending = '';
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      const text = pending + decoder.decode(chunk, { stream: true });
      const lines = text.split('\n');
      pending = lines.pop() ?? '';
      yield* lines;
    }
    pending += decoder.decode();
    if (pending) yield pending;
  } catch (err) {
    throw new TransportError(describeNetworkError(err, origin), request, { cause: err });
  } finally {
    if (!res.body.destroyed) res.body.destroy();
  }
}
