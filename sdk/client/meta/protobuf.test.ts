import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ApiError, ResponseDecodeError, ResponseTooLargeError, TransportError } from '../errors.js';
import type { StreamResponse } from '../transport/transport.js';
import { watchStream } from '../rest/watch.js';
import {
  decodeObject,
  decodeStatusBody,
  decodeWatchEvent,
  FrameSplitter,
  isProtobuf,
  ProtobufDecodeError,
} from './protobuf.js';

// A small protobuf writer, from the wire format's rules (varints, tags, length-delimited fields), to make the bytes the
// API server sends. The integration test (test/integration/protobuf-watch.test.ts) checks the decoder against them.
type Bytes = number[];
function varint(value: number | bigint): Bytes {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: Bytes = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return out;
}
const int = (field: number, value: number | bigint): Bytes => [...varint(field << 3), ...varint(value)];
const bytes = (field: number, payload: Bytes | Uint8Array): Bytes => [
  ...varint((field << 3) | 2),
  ...varint(payload.length),
  ...payload,
];
const str = (field: number, value: string): Bytes => bytes(field, Buffer.from(value, 'utf8'));
const msg = (field: number, ...parts: Bytes[]): Bytes => bytes(field, parts.flat());
const time = (field: number, seconds: number, nanos = 0): Bytes =>
  msg(field, int(1, seconds), ...(nanos ? [int(2, nanos)] : []));
const entry = (field: number, key: string, value: string): Bytes => msg(field, str(1, key), str(2, value));
const envelope = (apiVersion: string, kind: string, raw: Bytes, extra: Bytes[] = []): Buffer =>
  Buffer.from([0x6b, 0x38, 0x73, 0x00, ...msg(1, str(1, apiVersion), str(2, kind)), ...bytes(2, raw), ...extra.flat()]);
const partial = (...meta: Bytes[]): Buffer => envelope('meta.k8s.io/v1', 'PartialObjectMetadata', msg(1, ...meta));
const watchEvent = (type: string, object: Buffer): Buffer =>
  Buffer.from([...str(1, type), ...msg(2, bytes(1, object))]);
function framed(...events: Buffer[]): Buffer {
  return Buffer.concat(
    events.map((e) => {
      const head = Buffer.alloc(4);
      head.writeUInt32BE(e.length);
      return Buffer.concat([head, e]);
    }),
  );
}

// 2025-12-06T00:00:00Z and a minute later.
const created = 1764979200;
const deleted = created + 60;

/** Every field of ObjectMeta, as the API server's marshaller writes them: empty strings and a zero generation too. */
const fullMeta: Bytes[] = [
  str(1, 'web-0'),
  str(2, ''),
  str(3, 'shop'),
  str(4, ''),
  str(5, '6c8f0c43-6b0e-4f52-9b51-3a1d2b7c9e10'),
  str(6, '4711'),
  int(7, 3),
  time(8, created, 123_000_000),
  time(9, deleted),
  int(10, 30),
  entry(11, 'app', 'web'),
  entry(11, 'tier', 'front'),
  entry(12, 'note', 'grüße, 日本'),
  msg(13, str(1, 'StatefulSet'), str(3, 'web'), str(4, 'u-1'), str(5, 'apps/v1'), int(6, 1), int(7, 0)),
  msg(13, str(1, 'ConfigMap'), str(3, 'cm'), str(4, 'u-2'), str(5, 'v1')),
  str(14, 'example.com/guard'),
  msg(
    17,
    str(1, 'kubectl'),
    str(2, 'Apply'),
    str(3, 'v1'),
    time(4, created),
    str(6, 'FieldsV1'),
    msg(7, str(1, '{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}')),
  ),
  msg(
    17,
    str(1, 'kubelet'),
    str(2, 'Update'),
    str(3, 'v1'),
    str(6, 'FieldsV1'),
    msg(7, str(1, '{}')),
    str(8, 'status'),
  ),
];

const fullMetaJson = {
  name: 'web-0',
  namespace: 'shop',
  uid: '6c8f0c43-6b0e-4f52-9b51-3a1d2b7c9e10',
  resourceVersion: '4711',
  generation: 3,
  creationTimestamp: '2025-12-06T00:00:00Z',
  deletionTimestamp: '2025-12-06T00:01:00Z',
  deletionGracePeriodSeconds: 30,
  labels: { app: 'web', tier: 'front' },
  annotations: { note: 'grüße, 日本' },
  ownerReferences: [
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      name: 'web',
      uid: 'u-1',
      controller: true,
      blockOwnerDeletion: false,
    },
    { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: 'u-2' },
  ],
  finalizers: ['example.com/guard'],
  managedFields: [
    {
      manager: 'kubectl',
      operation: 'Apply',
      apiVersion: 'v1',
      time: '2025-12-06T00:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } },
    },
    {
      manager: 'kubelet',
      operation: 'Update',
      apiVersion: 'v1',
      fieldsType: 'FieldsV1',
      fieldsV1: {},
      subresource: 'status',
    },
  ],
};

describe('protobuf decoding of PartialObjectMetadata', () => {
  it('decodes every ObjectMeta field as the JSON encoding has it, in its order', () => {
    const buf = partial(...fullMeta);
    const object = decodeObject(buf, 0, buf.length);
    expect(object).toEqual({ apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: fullMetaJson });
    expect(Object.keys(object.kind === 'PartialObjectMetadata' ? object.metadata : {})).toEqual(
      Object.keys(fullMetaJson),
    );
  });

  it('leaves out what JSON leaves out, and gives the zero creation time as null', () => {
    const buf = partial(str(1, ''), str(6, '12'), int(7, 0), msg(8), entry(12, 'k8s.io/initial-events-end', 'true'));
    expect(decodeObject(buf, 0, buf.length)).toEqual({
      apiVersion: 'meta.k8s.io/v1',
      kind: 'PartialObjectMetadata',
      metadata: {
        resourceVersion: '12',
        creationTimestamp: null,
        annotations: { 'k8s.io/initial-events-end': 'true' },
      },
    });
  });

  it('passes over managedFields without decoding them when asked to', () => {
    const buf = partial(...fullMeta);
    const object = decodeObject(buf, 0, buf.length, { dropManagedFields: true });
    const { managedFields: _dropped, ...rest } = fullMetaJson;
    expect(object).toEqual({ apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: rest });
  });

  it('passes over fields it does not know, of every wire type', () => {
    const fixed64 = [...varint((40 << 3) | 1), 1, 2, 3, 4, 5, 6, 7, 8];
    const fixed32 = [...varint((41 << 3) | 5), 1, 2, 3, 4];
    const buf = partial(str(1, 'a'), int(39, 99), fixed64, fixed32, str(42, 'later'), str(6, '7'));
    expect(decodeObject(buf, 0, buf.length)).toMatchObject({ metadata: { name: 'a', resourceVersion: '7' } });
  });

  it('reads negative int64 values exactly', () => {
    const buf = partial(int(10, -1), int(7, 2 ** 40));
    expect(decodeObject(buf, 0, buf.length)).toMatchObject({
      metadata: { deletionGracePeriodSeconds: -1, generation: 2 ** 40 },
    });
  });

  it('decodes a Status with its details and causes', () => {
    const status = envelope('v1', 'Status', [
      ...msg(1),
      ...str(2, 'Failure'),
      ...str(3, 'too old resource version: 1 (4711)'),
      ...str(4, 'Expired'),
      ...msg(5, str(1, 'web'), str(3, 'pods'), msg(4, str(1, 'FieldValueInvalid'), str(3, 'spec')), int(5, 2)),
      ...int(6, 410),
    ]);
    expect(decodeStatusBody(status)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'too old resource version: 1 (4711)',
      reason: 'Expired',
      details: {
        name: 'web',
        kind: 'pods',
        causes: [{ reason: 'FieldValueInvalid', field: 'spec' }],
        retryAfterSeconds: 2,
      },
      code: 410,
    });
    expect(decodeStatusBody(Buffer.from('{"kind":"Status"}'))).toBeUndefined();
  });

  it('fails with a message that names what is wrong, never the bytes', () => {
    const cases: [Buffer, RegExp][] = [
      [Buffer.from('{"kind":"PartialObjectMetadata"}'), /does not start with the protobuf envelope/],
      [envelope('v1', 'ConfigMap', []), /PartialObjectMetadata and Status only, and the answer is ConfigMap/],
      [envelope('v1', 'Secret', [...str(2, 'c2VjcmV0')]), /the answer is Secret$/],
      [envelope('meta.k8s.io/v1', 'PartialObjectMetadata', [], [str(3, 'gzip')]), /content encoding/],
      [partial().subarray(0, -1), /runs past its message/],
      [Buffer.concat([partial(), Buffer.from([(45 << 3) | 3])]), /wire type 3/],
    ];
    for (const [buf, message] of cases) {
      expect(() => decodeObject(buf, 0, buf.length)).toThrow(ProtobufDecodeError);
      expect(() => decodeObject(buf, 0, buf.length)).toThrow(message);
    }
    // A string that runs past its message (its length says more than there is).
    const cut = partial(str(1, 'a-long-name'));
    expect(() => decodeObject(cut, 0, cut.length - 3)).toThrow(/runs past its message/);
  });

  it('knows protobuf Content-Types', () => {
    expect(isProtobuf('application/vnd.kubernetes.protobuf;stream=watch')).toBe(true);
    expect(isProtobuf(['application/vnd.kubernetes.protobuf'])).toBe(true);
    expect(isProtobuf('application/json')).toBe(false);
    expect(isProtobuf(undefined)).toBe(false);
  });
});

describe('protobuf watch frames', () => {
  const events = [
    watchEvent('ADDED', partial(str(1, 'a'), str(6, '1'))),
    watchEvent('MODIFIED', partial(str(1, 'b'), str(6, '2'), entry(12, 'note', 'x'.repeat(300)))),
    watchEvent('BOOKMARK', partial(str(6, '3'))),
  ];
  const stream = framed(...events);

  it('splits frames across any chunk boundary', () => {
    for (const size of [1, 2, 3, 4, 5, 7, 64, stream.length]) {
      const splitter = new FrameSplitter({ maxFrameBytes: 1024, tooLong: () => new Error('too long') });
      const frames: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) frames.push(...splitter.push(stream.subarray(i, i + size)));
      expect(
        frames.map((f) => decodeWatchEvent(f).type),
        `chunk size ${size}`,
      ).toEqual(['ADDED', 'MODIFIED', 'BOOKMARK']);
      expect(splitter.pending()).toBe(0);
    }
  });

  it('refuses a frame longer than its limit as soon as its length is read', () => {
    const splitter = new FrameSplitter({ maxFrameBytes: 100, tooLong: (max) => new Error(`over ${max}`) });
    const first = 4 + events[0]!.length;
    // The first frame fits; the second (over 300 bytes) fails once its 4 length bytes are in, split here 2 + 2.
    expect(splitter.push(stream.subarray(0, first + 2))).toHaveLength(1);
    expect(() => splitter.push(stream.subarray(first + 2, first + 4))).toThrow('over 100');
  });

  it('decodes a watch event and its object', () => {
    expect(decodeWatchEvent(events[0]!)).toEqual({
      type: 'ADDED',
      object: {
        apiVersion: 'meta.k8s.io/v1',
        kind: 'PartialObjectMetadata',
        metadata: { name: 'a', resourceVersion: '1' },
      },
    });
  });
});

describe('a watch whose answer is protobuf', () => {
  const info = { request: { method: 'GET', path: '/api/v1/pods?watch=true' }, origin: 'https://h' };
  const protobufWatch = 'application/vnd.kubernetes.protobuf;stream=watch';
  function response(chunks: Buffer[]): StreamResponse {
    const body = new Readable({ read() {} });
    for (const c of chunks) body.push(c);
    body.push(null);
    return {
      statusCode: 200,
      headers: { 'content-type': protobufWatch },
      body: body as unknown as StreamResponse['body'],
    };
  }
  async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const x of iterable) out.push(x);
    return out;
  }
  const withFields = watchEvent('ADDED', partial(...fullMeta));

  it('decodes the frames by the Content-Type, managedFields kept unless the caller drops them', async () => {
    const kept = await collect(watchStream(async () => response([framed(withFields)]), info));
    expect(kept).toEqual([
      {
        type: 'ADDED',
        object: { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: fullMetaJson },
      },
    ]);
    const dropped = await collect(
      watchStream(async () => response([framed(withFields)]), { ...info, dropsManagedFields: true }),
    );
    expect((dropped[0]!.object as { metadata: object }).metadata).not.toHaveProperty('managedFields');
  });

  it('raises an in-stream ERROR event as the ApiError of its Status', async () => {
    const expired = envelope('v1', 'Status', [
      ...str(2, 'Failure'),
      ...str(3, 'too old'),
      ...str(4, 'Expired'),
      ...int(6, 410),
    ]);
    const err = await collect(
      watchStream(
        async () => response([framed(watchEvent('ADDED', partial(str(1, 'a'))), watchEvent('ERROR', expired))]),
        info,
      ),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).statusCode).toBe(410);
    expect((err as ApiError).reason).toBe('Expired');
  });

  it('ends with a TransportError when the stream is cut inside a frame', async () => {
    const whole = framed(withFields);
    const err = await collect(watchStream(async () => response([whole.subarray(0, whole.length - 5)]), info)).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransportError);
    expect((err as Error).message).toContain('ended inside an event');
  });

  it('fails an undecodable frame with ResponseDecodeError, an unknown event type too', async () => {
    const bad = await collect(watchStream(async () => response([framed(Buffer.from([0x0a, 0x09, 0x41]))]), info)).catch(
      (e: unknown) => e,
    );
    expect(bad).toBeInstanceOf(ResponseDecodeError);
    expect((bad as Error).message).toContain('protobuf event that cannot be decoded');
    const odd = await collect(
      watchStream(async () => response([framed(watchEvent('RENAMED', partial()))]), info),
    ).catch((e: unknown) => e);
    expect(odd).toBeInstanceOf(ResponseDecodeError);
    expect((odd as Error).message).toContain('unknown type RENAMED');
  });

  it('fails a frame longer than 16 MiB with ResponseTooLargeError', async () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(16 * 1024 * 1024 + 1);
    const err = await collect(watchStream(async () => response([head]), info)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResponseTooLargeError);
  });
});
