/**
 * Kubernetes' protobuf encoding, the decoding side, for what kubeloop asks protobuf for: metadata-only watches
 * (`metav1.PartialObjectMetadata`, as client-go's metadata client always asks for) and the `metav1.Status` of their
 * errors. Objects come out as the JSON encoding would have them: the same fields, the same names, empty ones left
 * out as the JSON tags' `omitempty` leaves them out, times as RFC 3339 strings.
 *
 * The wire, from apimachinery's protobuf serializer:
 * - an object is the 4 bytes `k8s\0`, then a `runtime.Unknown` (its apiVersion and kind, and the object's own bytes);
 * - a watch stream is frames of a 4-byte big-endian length and a `metav1.WatchEvent` (without that envelope), whose
 *   object is an enveloped object as above.
 *
 * Decoding fails with {@link ProtobufDecodeError}, which says what was wrong and never quotes the bytes.
 */
import type { ManagedFieldsEntry, ObjectMeta, OwnerReference, Status, StatusDetails } from './types.js';

/** The media type of Kubernetes' protobuf encoding. */
export const protobufMediaType = 'application/vnd.kubernetes.protobuf';

/** True when a Content-Type header names Kubernetes' protobuf encoding (`…;stream=watch` included). */
export function isProtobuf(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return value !== undefined && value.trimStart().toLowerCase().startsWith(protobufMediaType);
}

/** Malformed protobuf: a field that runs past its message, a wire type that cannot be, an unknown envelope. */
export class ProtobufDecodeError extends Error {}

const wireVarint = 0;
const wireFixed64 = 1;
const wireBytes = 2;
const wireFixed32 = 5;

/** A cursor over one message's bytes; nested messages are read in place, up to their end. */
class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  /** An unsigned varint (a tag, a length, a non-negative int): exact up to 2^53. */
  varint(): number {
    const buf = this.buf;
    let pos = this.pos;
    let byte = buf[pos++]!;
    let value = byte & 0x7f;
    let scale = 128;
    while (byte >= 0x80) {
      if (pos >= this.end || scale > 2 ** 63) throw new ProtobufDecodeError('a varint runs past its message');
      byte = buf[pos++]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
    }
    if (pos > this.end) throw new ProtobufDecodeError('a varint runs past its message');
    this.pos = pos;
    return value;
  }

  /** A signed int64 (two's complement, 10 bytes when negative), as a number. */
  int64(): number {
    const start = this.pos;
    const value = this.varint();
    if (value < 2 ** 53) return value;
    let big = 0n;
    for (let i = this.pos - 1; i >= start; i--) big = (big << 7n) | BigInt(this.buf[i]! & 0x7f);
    return Number(BigInt.asIntN(64, big));
  }

  /** A length-delimited field's end; the cursor is at its first byte. */
  bytesEnd(): number {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.end) throw new ProtobufDecodeError('a field runs past its message');
    return end;
  }

  string(): string {
    const end = this.bytesEnd();
    const value = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return value;
  }

  /** A string that many objects may share (a namespace, a label's value): see {@link shared}. */
  sharedString(): string {
    const value = this.string();
    return value.length <= maxSharedLength ? shared(value) : value;
  }

  /** Passes over a field of the given wire type. */
  skip(wireType: number): void {
    switch (wireType) {
      case wireVarint:
        this.varint();
        return;
      case wireFixed64:
        this.pos += 8;
        break;
      case wireBytes:
        this.pos = this.bytesEnd();
        return;
      case wireFixed32:
        this.pos += 4;
        break;
      default:
        throw new ProtobufDecodeError(`a field has wire type ${wireType}, which this decoder does not take`);
    }
    if (this.pos > this.end) throw new ProtobufDecodeError('a field runs past its message');
  }
}

/*
 * Plain objects built field by field: `new MetaObject()` is a `{}` (its prototype is Object.prototype), but V8 sizes
 * the objects of one constructor to the fields they come to hold (in-object slack tracking), where a `{}` literal
 * keeps four fields in the object and the rest in a separate store. Each kind of object has its own constructor, so
 * each is sized for its own fields: about 30 bytes less for each map of labels and each metadata, which JSON.parse's
 * objects (sized to their fields) do not pay either.
 */
function MetaObject(): void {}
MetaObject.prototype = Object.prototype;
function LabelsObject(): void {}
LabelsObject.prototype = Object.prototype;
function AnnotationsObject(): void {}
AnnotationsObject.prototype = Object.prototype;
type PlainConstructor = new () => Record<string, unknown>;
const newMeta = (): Record<string, unknown> => new (MetaObject as unknown as PlainConstructor)();
const newLabels = (): Record<string, string> =>
  new (LabelsObject as unknown as PlainConstructor)() as Record<string, string>;
const newAnnotations = (): Record<string, string> =>
  new (AnnotationsObject as unknown as PlainConstructor)() as Record<string, string>;

/**
 * Short strings that repeat across objects (a namespace, label values, owner references, finalizers) are kept once, as
 * V8's JSON.parse keeps them (it internalizes string values of up to 25 characters): a cache of 10k objects then holds
 * one copy of its namespace, not 10k. The table is bounded: past 8192 strings it starts again.
 */
const maxSharedLength = 25;
const sharedStrings = new Map<string, string>();

function shared(value: string): string {
  const kept = sharedStrings.get(value);
  if (kept !== undefined) return kept;
  if (sharedStrings.size >= 8192) sharedStrings.clear();
  sharedStrings.set(value, value);
  return value;
}

/** `metav1.Time` (seconds and nanos) as its JSON form: RFC 3339 in UTC, whole seconds; the zero time is null. */
function decodeTime(r: Reader, end: number): string | null {
  let seconds = 0;
  let present = false;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 8) {
      seconds = r.int64();
      present = true;
    } else r.skip(tag & 7);
  }
  // metav1.Time marshals its zero value as an empty message; JSON has null for it.
  if (!present) return null;
  return formatTime(seconds);
}

let lastSeconds = NaN;
let lastFormatted = '';

/** Many objects share a second (a burst of creations): the last one formatted is kept. */
function formatTime(seconds: number): string {
  if (seconds !== lastSeconds) {
    lastSeconds = seconds;
    lastFormatted = `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
  }
  return lastFormatted;
}

/** A `map<string, string>` entry, added to `map`; `share` for values that repeat across objects (labels'). */
function decodeMapEntry(r: Reader, end: number, map: Record<string, string>, share: boolean): void {
  let key = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 10) key = r.string();
    else if (tag === 18) value = share ? r.sharedString() : r.string();
    else r.skip(tag & 7);
  }
  map[key] = value;
}

function decodeOwnerReference(r: Reader, end: number): OwnerReference {
  let kind = '';
  let name = '';
  let uid = '';
  let apiVersion = '';
  let controller: boolean | undefined;
  let blockOwnerDeletion: boolean | undefined;
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case 10:
        kind = r.sharedString();
        break;
      case 26:
        name = r.sharedString();
        break;
      case 34:
        uid = r.sharedString();
        break;
      case 42:
        apiVersion = r.sharedString();
        break;
      case 48:
        controller = r.varint() !== 0;
        break;
      case 56:
        blockOwnerDeletion = r.varint() !== 0;
        break;
      default:
        r.skip(tag & 7);
    }
  }
  // JSON's order; the four names are always there, the two flags when set.
  const ref: OwnerReference = { apiVersion, kind, name, uid };
  if (controller !== undefined) ref.controller = controller;
  if (blockOwnerDeletion !== undefined) ref.blockOwnerDeletion = blockOwnerDeletion;
  return ref;
}

function decodeManagedFieldsEntry(r: Reader, end: number): ManagedFieldsEntry {
  const entry: ManagedFieldsEntry = {};
  let subresource = '';
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case 10:
        setString(entry, 'manager', r.sharedString());
        break;
      case 18:
        setString(entry, 'operation', r.sharedString());
        break;
      case 26:
        setString(entry, 'apiVersion', r.sharedString());
        break;
      case 34: {
        const timeEnd = r.bytesEnd();
        const time = decodeTime(r, timeEnd);
        r.pos = timeEnd;
        if (time !== null) entry.time = time;
        break;
      }
      case 50:
        setString(entry, 'fieldsType', r.sharedString());
        break;
      case 58: {
        const fieldsEnd = r.bytesEnd();
        entry.fieldsV1 = decodeFieldsV1(r, fieldsEnd);
        r.pos = fieldsEnd;
        break;
      }
      case 66:
        subresource = r.sharedString();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (subresource) entry.subresource = subresource;
  return entry;
}

/** `metav1.FieldsV1`: its bytes are the JSON of the field set. */
function decodeFieldsV1(r: Reader, end: number): Record<string, unknown> {
  let fields: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 10) {
      const rawEnd = r.bytesEnd();
      try {
        fields = JSON.parse(r.buf.toString('utf8', r.pos, rawEnd)) as Record<string, unknown>;
      } catch {
        throw new ProtobufDecodeError('a managedFields entry holds fieldsV1 that are not JSON');
      }
      r.pos = rawEnd;
    } else r.skip(tag & 7);
  }
  return fields;
}

function setString<K extends string>(target: { [key in K]?: string }, key: K, value: string): void {
  if (value) target[key] = value;
}

/** What the decoder may leave out. */
export interface ObjectMetaDecodeOptions {
  /** Leave `managedFields` out (the caller drops them): they are passed over, not decoded. */
  dropManagedFields?: boolean | undefined;
}

/** `metav1.ObjectMeta` as its JSON: empty strings, a zero generation and empty lists and maps left out. */
export function decodeObjectMeta(r: Reader, end: number, options: ObjectMetaDecodeOptions): ObjectMeta {
  const meta = newMeta() as Omit<ObjectMeta, 'creationTimestamp'> & { creationTimestamp?: string | null };
  let labels: Record<string, string> | undefined;
  let annotations: Record<string, string> | undefined;
  let ownerReferences: OwnerReference[] | undefined;
  let finalizers: string[] | undefined;
  let managedFields: ManagedFieldsEntry[] | undefined;
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case 10:
        setString(meta, 'name', r.string());
        break;
      case 18:
        setString(meta, 'generateName', r.sharedString());
        break;
      case 26:
        setString(meta, 'namespace', r.sharedString());
        break;
      case 34:
        setString(meta, 'selfLink', r.string());
        break;
      case 42:
        setString(meta, 'uid', r.string());
        break;
      case 50:
        setString(meta, 'resourceVersion', r.string());
        break;
      case 56: {
        const generation = r.int64();
        if (generation !== 0) meta.generation = generation;
        break;
      }
      case 66:
      case 74: {
        const timeEnd = r.bytesEnd();
        const time = decodeTime(r, timeEnd);
        r.pos = timeEnd;
        // creationTimestamp has no omitempty (JSON says null for the zero time); deletionTimestamp is a pointer.
        if (tag === 66) meta.creationTimestamp = time;
        else if (time !== null) meta.deletionTimestamp = time;
        break;
      }
      case 80:
        meta.deletionGracePeriodSeconds = r.int64();
        break;
      case 90:
      case 98: {
        const entryEnd = r.bytesEnd();
        const map = tag === 90 ? (labels ??= newLabels()) : (annotations ??= newAnnotations());
        decodeMapEntry(r, entryEnd, map, tag === 90);
        r.pos = entryEnd;
        break;
      }
      case 106: {
        const refEnd = r.bytesEnd();
        (ownerReferences ??= []).push(decodeOwnerReference(r, refEnd));
        r.pos = refEnd;
        break;
      }
      case 114:
        (finalizers ??= []).push(r.sharedString());
        break;
      case 138: {
        const entryEnd = r.bytesEnd();
        if (!options.dropManagedFields) (managedFields ??= []).push(decodeManagedFieldsEntry(r, entryEnd));
        r.pos = entryEnd;
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  // JSON's order of the fields that come after the scalars.
  if (labels) meta.labels = labels;
  if (annotations) meta.annotations = annotations;
  if (ownerReferences) meta.ownerReferences = ownerReferences;
  if (finalizers) meta.finalizers = finalizers;
  if (managedFields) meta.managedFields = managedFields;
  return meta as ObjectMeta;
}

/** `metav1.PartialObjectMetadata`'s own bytes: its metadata. */
function decodePartialObjectMetadata(r: Reader, end: number, options: ObjectMetaDecodeOptions): ObjectMeta {
  let metadata: ObjectMeta = {};
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 10) {
      const metaEnd = r.bytesEnd();
      metadata = decodeObjectMeta(r, metaEnd, options);
      r.pos = metaEnd;
    } else r.skip(tag & 7);
  }
  return metadata;
}

function decodeStatusCause(r: Reader, end: number): NonNullable<StatusDetails['causes']>[number] {
  const cause: { reason?: string; message?: string; field?: string } = {};
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 10) setString(cause, 'reason', r.string());
    else if (tag === 18) setString(cause, 'message', r.string());
    else if (tag === 26) setString(cause, 'field', r.string());
    else r.skip(tag & 7);
  }
  return cause;
}

function decodeStatusDetails(r: Reader, end: number): StatusDetails {
  const details: StatusDetails = {};
  let causes: NonNullable<StatusDetails['causes']> | undefined;
  let retryAfterSeconds = 0;
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case 10:
        setString(details, 'name', r.string());
        break;
      case 18:
        setString(details, 'group', r.string());
        break;
      case 26:
        setString(details, 'kind', r.string());
        break;
      case 34: {
        const causeEnd = r.bytesEnd();
        (causes ??= []).push(decodeStatusCause(r, causeEnd));
        r.pos = causeEnd;
        break;
      }
      case 40:
        retryAfterSeconds = r.int64();
        break;
      case 50:
        setString(details, 'uid', r.string());
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (causes) details.causes = causes;
  if (retryAfterSeconds) details.retryAfterSeconds = retryAfterSeconds;
  return details;
}

/** `metav1.Status`'s own bytes, as its JSON (kind Status, apiVersion v1). */
function decodeStatus(r: Reader, end: number): Status {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {} };
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case 18:
        setString(status, 'status', r.string());
        break;
      case 26:
        setString(status, 'message', r.string());
        break;
      case 34:
        setString(status, 'reason', r.string());
        break;
      case 42: {
        const detailsEnd = r.bytesEnd();
        status.details = decodeStatusDetails(r, detailsEnd);
        r.pos = detailsEnd;
        break;
      }
      case 48: {
        const code = r.int64();
        if (code) status.code = code;
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  return status;
}

/** `k8s\0`, the start of every enveloped object. */
const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** An object decoded from its envelope: PartialObjectMetadata and Status are the kinds this decoder knows. */
export type DecodedObject =
  | { kind: 'PartialObjectMetadata'; apiVersion: string; metadata: ObjectMeta }
  | (Status & { kind: 'Status' });

/**
 * An enveloped object (`k8s\0` + `runtime.Unknown`) from `buf[start, end)`: a PartialObjectMetadata (with the
 * apiVersion and kind of its envelope) or a Status.
 */
export function decodeObject(
  buf: Buffer,
  start: number,
  end: number,
  options: ObjectMetaDecodeOptions = {},
): DecodedObject {
  if (end - start < 4 || buf.compare(magic, 0, 4, start, start + 4) !== 0) {
    throw new ProtobufDecodeError('an object does not start with the protobuf envelope (k8s\\0)');
  }
  const r = new Reader(buf, start + 4, end);
  let apiVersion = '';
  let kind = '';
  let rawStart = -1;
  let rawEnd = -1;
  let encoded = false;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 10) {
      const typeEnd = r.bytesEnd();
      while (r.pos < typeEnd) {
        const typeTag = r.varint();
        if (typeTag === 10) apiVersion = r.string();
        else if (typeTag === 18) kind = r.string();
        else r.skip(typeTag & 7);
      }
    } else if (tag === 18) {
      rawEnd = r.bytesEnd();
      rawStart = r.pos;
      r.pos = rawEnd;
    } else if (tag === 26) {
      encoded = r.string() !== '';
    } else r.skip(tag & 7);
  }
  if (encoded) throw new ProtobufDecodeError(`a ${kind || 'object'} came with a content encoding`);
  const raw = new Reader(buf, rawStart < 0 ? end : rawStart, rawStart < 0 ? end : rawEnd);
  if (kind === 'PartialObjectMetadata') {
    // JSON's order: kind first.
    return { kind, apiVersion, metadata: decodePartialObjectMetadata(raw, raw.end, options) };
  }
  if (kind === 'Status') return decodeStatus(raw, raw.end) as DecodedObject;
  const shown = /^[A-Za-z]{1,40}$/.test(kind) ? kind : 'an object of another kind';
  throw new ProtobufDecodeError(
    `protobuf is decoded for PartialObjectMetadata and Status only, and the answer is ${shown}`,
  );
}

/** A watch event's frame (`metav1.WatchEvent`, not enveloped): its type and its object. */
export function decodeWatchEvent(
  frame: Buffer,
  options: ObjectMetaDecodeOptions = {},
): { type: string; object: DecodedObject | undefined } {
  const r = new Reader(frame, 0, frame.length);
  let type = '';
  let object: DecodedObject | undefined;
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === 10) type = r.string();
    else if (tag === 18) {
      // runtime.RawExtension: its raw bytes are the enveloped object.
      const extEnd = r.bytesEnd();
      while (r.pos < extEnd) {
        const extTag = r.varint();
        if (extTag === 10) {
          const rawEnd = r.bytesEnd();
          object = decodeObject(frame, r.pos, rawEnd, options);
          r.pos = rawEnd;
        } else r.skip(extTag & 7);
      }
    } else r.skip(tag & 7);
  }
  return { type, object };
}

/** The longest frame a {@link FrameSplitter} takes, and the error it throws for a longer one. */
export interface FrameLimit {
  maxFrameBytes: number;
  tooLong(maxFrameBytes: number): Error;
}

/**
 * Splits a length-delimited stream (a protobuf watch: a 4-byte big-endian length, then that many bytes) into frames,
 * across chunk boundaries. A frame inside one chunk is a view of it; only a frame split across chunks is copied.
 * A length over `maxFrameBytes` throws what `tooLong` makes before anything of the frame is kept.
 */
export class FrameSplitter {
  #carry: Buffer[] = [];
  #carried = 0;
  /** The bytes the unfinished frame needs (4 until its length is known): carried chunks are joined once, then. */
  #needed = 0;
  readonly #limit: FrameLimit;

  constructor(limit: FrameLimit) {
    this.#limit = limit;
  }

  /** The frames that `chunk` completes; the bytes of an unfinished frame wait for the next chunk. */
  push(chunk: Buffer): Buffer[] {
    let buf = chunk;
    if (this.#carried > 0) {
      this.#carry.push(chunk);
      this.#carried += chunk.length;
      if (this.#carried < this.#needed) return [];
      buf = Buffer.concat(this.#carry, this.#carried);
      this.#carry = [];
      this.#carried = 0;
    }
    const frames: Buffer[] = [];
    let pos = 0;
    while (buf.length - pos >= 4) {
      const length = buf.readUInt32BE(pos);
      if (length > this.#limit.maxFrameBytes) throw this.#limit.tooLong(this.#limit.maxFrameBytes);
      if (buf.length - pos - 4 < length) break;
      frames.push(buf.subarray(pos + 4, pos + 4 + length));
      pos += 4 + length;
    }
    if (pos < buf.length) {
      const rest = buf.subarray(pos);
      this.#carry = [rest];
      this.#carried = rest.length;
      this.#needed = rest.length >= 4 ? 4 + rest.readUInt32BE(0) : 4;
    }
    return frames;
  }

  /** How many bytes of an unfinished frame are waiting (0 at a frame boundary). */
  pending(): number {
    return this.#carried;
  }
}

/** A Status from an error answer's protobuf body, or undefined when the body is no enveloped Status. */
export function decodeStatusBody(body: Buffer): Status | undefined {
  try {
    const object = decodeObject(body, 0, body.length);
    return object.kind === 'Status' ? object : undefined;
  } catch {
    return undefined;
  }
}
