import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ApiError, ResponseDecodeError, ResponseTooLargeError, TransportError, WatchStalledError } from '../errors.js';
import type { StreamResponse } from '../transport/transport.js';
import { maxWatchEventBytes, streamLines, watchStream } from './watch.js';

// The decoder alone, over hand-made byte streams: chunk boundaries anywhere, multi-byte characters split, errors.
function response(chunks: (string | Uint8Array)[], options: { hold?: boolean } = {}): StreamResponse {
  const stream = new Readable({ read() {} });
  for (const c of chunks) stream.push(typeof c === 'string' ? Buffer.from(c) : c);
  if (!options.hold) stream.push(null);
  return { statusCode: 200, headers: {}, body: stream as unknown as StreamResponse['body'] };
}

const info = { request: { method: 'GET', path: '/api/v1/pods?watch=true' }, origin: 'https://h' };

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

describe('watch decoding', () => {
  it('splits events across any chunk boundary, including inside a multi-byte character', async () => {
    const text =
      JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'grüße-1' } } }) +
      '\n' +
      JSON.stringify({ type: 'MODIFIED', object: { metadata: { name: '日本-2' } } }) +
      '\n' +
      JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } }) +
      '\n';
    const bytes = Buffer.from(text);
    for (const size of [1, 2, 3, 7, 64, bytes.length]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const events = await collect(watchStream(async () => response(chunks), info));
      expect(
        events.map((e) => e.type),
        `chunk size ${size}`,
      ).toEqual(['ADDED', 'MODIFIED', 'BOOKMARK']);
      expect((events[1]!.object as { metadata: { name: string } }).metadata.name).toBe('日本-2');
    }
  });

  it('accepts a last event without a trailing newline', async () => {
    const events = await collect(watchStream(async () => response(['{"type":"ADDED","object":{}}']), info));
    expect(events).toHaveLength(1);
  });

  it('raises an in-stream ERROR event as an ApiError', async () => {
    const error = {
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' },
    };
    const err = await collect(watchStream(async () => response([`${JSON.stringify(error)}\n`]), info)).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).statusCode).toBe(410);
    expect((err as ApiError).message).toContain('too old resource version');
  });

  it('fails an endless line at 16 MiB with ResponseTooLargeError, having read little more than that', async () => {
    // A stream that sends one event, then a line that never ends, 64 KiB at a time (as a socket delivers it), for as
    // long as it is read.
    let produced = 0;
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const body = new Readable({
      read() {
        if (produced === 0) this.push(Buffer.from('{"type":"ADDED","object":{}}\n{"type":"ADDED","object":{"data":"'));
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const events: string[] = [];
    const err = await (async () => {
      for await (const e of watchStream(
        async () => ({ statusCode: 200, headers: {}, body: body as unknown as StreamResponse['body'] }),
        info,
      )) {
        events.push(e.type);
      }
    })().catch((e: unknown) => e);
    expect(events).toEqual(['ADDED']);
    expect(err).toBeInstanceOf(ResponseTooLargeError);
    expect(err).toMatchObject({
      code: 'ERR_KUBE_RESPONSE_TOO_LARGE',
      limitBytes: maxWatchEventBytes,
      message: 'GET /api/v1/pods: a watch event (one line of the stream) is larger than 16 MiB',
    });
    // Reading stopped at the limit: what was produced is the limit and what the reader queued ahead of the decoder
    // (at most 16 chunks) or the stream buffered.
    expect(produced).toBeLessThan(maxWatchEventBytes + 32 * chunk.length);
    expect(body.destroyed).toBe(true);
  });

  it('takes a line of just under 16 MiB', async () => {
    const big = `{"type":"ADDED","object":{"data":"${'x'.repeat(maxWatchEventBytes - 64)}"}}`;
    const events = await collect(
      watchStream(async () => response([big.slice(0, 5_000_000), `${big.slice(5_000_000)}\n`]), info),
    );
    expect(events).toHaveLength(1);
  });

  it('reports invalid JSON as a TransportError', async () => {
    const err = await collect(watchStream(async () => response(['{"type":\n']), info)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
  });

  it('ends a silent stream with WatchStalledError after the inactivity timeout', async () => {
    const res = response(['{"type":"ADDED","object":{}}\n'], { hold: true });
    const events: string[] = [];
    const err = await (async () => {
      for await (const e of watchStream(async () => res, { ...info, inactivityTimeoutMs: 100 })) events.push(e.type);
    })().catch((e: unknown) => e);
    expect(events).toEqual(['ADDED']);
    expect(err).toBeInstanceOf(WatchStalledError);
    expect((err as WatchStalledError).code).toBe('ERR_KUBE_WATCH_STALLED');
    expect((res.body as unknown as Readable).destroyed).toBe(true);
  });

  it('hands out the events in batches with batches(), those before an in-stream error first', async () => {
    const ev = (n: number) => JSON.stringify({ type: 'ADDED', object: { metadata: { name: `o${n}` } } });
    const error = JSON.stringify({
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' },
    });
    const chunks = [
      `${ev(1)}\n${ev(2)}\n${ev(3).slice(0, 10)}`,
      `${ev(3).slice(10)}\n`,
      `${ev(4)}\n${error}\n${ev(5)}\n`,
    ];
    const batches: string[][] = [];
    const err = await (async () => {
      for await (const batch of watchStream(async () => response(chunks), info).batches!()) {
        batches.push(batch.map((e) => (e.object as { metadata: { name: string } }).metadata.name));
      }
    })().catch((e: unknown) => e);
    // How the bytes are cut into chunks is the stream's business; every batch is non-empty and the order is kept.
    expect(batches.every((b) => b.length > 0)).toBe(true);
    expect(batches.flat()).toEqual(['o1', 'o2', 'o3', 'o4']);
    expect(err).toBeInstanceOf(ApiError);
    const w = watchStream(async () => response([]), info);
    w.batches!();
    expect(() => w[Symbol.asyncIterator]()).toThrow('a watch can be iterated once');
  });

  it('close() ends the iteration and destroys the stream', async () => {
    const res = response([], { hold: true });
    const watch = watchStream(async () => res, info);
    const done = collect(watch);
    await new Promise((r) => setTimeout(r, 20));
    watch.close();
    await expect(done).resolves.toEqual([]);
    expect((res.body as unknown as Readable).destroyed).toBe(true);
  });

  it('pauses the body while the consumer holds back, and reads on once it asks again', async () => {
    const res = response([], { hold: true });
    const stream = res.body as unknown as Readable;
    const ev = (n: number) => `${JSON.stringify({ type: 'ADDED', object: { metadata: { name: `o${n}` } } })}\n`;
    const batches = watchStream(async () => res, info).batches!()[Symbol.asyncIterator]();
    const first = batches.next();
    stream.push(ev(0));
    expect((await first).value?.length).toBe(1);
    // The consumer holds on to its batch: what arrives meanwhile waits, and the body pauses.
    for (let i = 1; i <= 40; i++) stream.push(ev(i));
    await new Promise((r) => setTimeout(r, 20));
    expect(stream.isPaused()).toBe(true);
    const names: string[] = [];
    const rest = (async () => {
      for (let r = await batches.next(); !r.done; r = await batches.next()) {
        for (const e of r.value) names.push((e.object as { metadata: { name: string } }).metadata.name);
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    stream.push(null);
    await rest;
    expect(names).toEqual(Array.from({ length: 40 }, (_, i) => `o${i + 1}`));
  });

  it('raises a stream that fails or is destroyed before its end as a TransportError, after the events it had', async () => {
    for (const fail of [(s: Readable) => s.destroy(new Error('socket hang up')), (s: Readable) => s.destroy()]) {
      const res = response(['{"type":"ADDED","object":{}}\n'], { hold: true });
      const events: string[] = [];
      const done = (async () => {
        for await (const e of watchStream(async () => res, info)) events.push(e.type);
      })().catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 20));
      fail(res.body as unknown as Readable);
      const err = await done;
      expect(events).toEqual(['ADDED']);
      expect(err).toBeInstanceOf(TransportError);
    }
  });
});

describe('watch decoding of bad ERROR events', () => {
  it('reports an ERROR event whose object is null as a ResponseDecodeError that says so', async () => {
    const err = await collect(watchStream(async () => response(['{"type":"ERROR","object":null}\n']), info)).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ResponseDecodeError);
    expect((err as ResponseDecodeError).code).toBe('ERR_KUBE_DECODE');
    expect((err as Error).message).toBe(
      'GET /api/v1/pods: the watch sent an ERROR event whose object is null, not a Status',
    );
  });

  it('reports an ERROR event whose object is no Status, and invalid JSON without quoting the line', async () => {
    const notStatus = await collect(
      watchStream(async () => response(['{"type":"ERROR","object":{"kind":"Pod"}}\n']), info),
    ).catch((e: unknown) => e);
    expect((notStatus as Error).message).toMatch(/object that is not a Status/);
    const invalid = await collect(watchStream(async () => response(['{"data":"c2VjcmV0"\n']), info)).catch(
      (e: unknown) => e,
    );
    expect(invalid).toBeInstanceOf(TransportError);
    expect((invalid as Error).message).not.toContain('c2VjcmV0');
  });
});

describe('log streams', () => {
  it('splits lines across chunks, keeping a last line without a newline', async () => {
    const lines = await collect(
      streamLines(async () => response(['one\ntw', 'o\nthr', 'ee']), info.request, info.origin),
    );
    expect(lines).toEqual(['one', 'two', 'three']);
  });

  it('ends an endless line at 16 MiB with ResponseTooLargeError', async () => {
    let produced = 0;
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const body = new Readable({
      read() {
        if (produced === 0) this.push(Buffer.from('first\n'));
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const lines: string[] = [];
    const err = await (async () => {
      for await (const line of streamLines(
        async () => ({ statusCode: 200, headers: {}, body: body as unknown as StreamResponse['body'] }),
        info.request,
        info.origin,
      )) {
        lines.push(line);
      }
    })().catch((e: unknown) => e);
    expect(lines).toEqual(['first']);
    expect(err).toMatchObject({
      code: 'ERR_KUBE_RESPONSE_TOO_LARGE',
      message: 'GET /api/v1/pods: a line of the stream is larger than 16 MiB',
    });
    expect(produced).toBeLessThan(maxWatchEventBytes + 32 * chunk.length);
  });
});
