import type { EventInput, EventRecorder, EventSubject, EventType } from '../manager/index.js';

/** Who an Event is about, as a reference. */
export interface RecordedEventObject {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
}

/** One Event a reconciler recorded. */
export interface RecordedEvent {
  type: EventType;
  reason: string;
  note: string;
  /** The action; defaults to the reason, as the real recorder does. */
  action: string;
  regarding: RecordedEventObject;
  related?: RecordedEventObject;
}

/**
 * An {@link EventRecorder} that writes nothing and keeps each Event in `events`, in order: what `reconcileOnce`
 * injects as `EVENT_RECORDER`. Unlike the real recorder it does not aggregate repeats into series.
 */
export interface RecordingEventRecorder extends EventRecorder {
  readonly events: readonly RecordedEvent[];
  clear(): void;
}

function reference(subject: EventSubject): RecordedEventObject {
  const s = subject as Record<string, unknown> & { metadata?: Record<string, unknown> };
  const m = s.metadata ?? s;
  const out: RecordedEventObject = {};
  if (typeof s['apiVersion'] === 'string') out.apiVersion = s['apiVersion'];
  if (typeof s['kind'] === 'string') out.kind = s['kind'];
  if (typeof m['namespace'] === 'string' && m['namespace']) out.namespace = m['namespace'];
  if (typeof m['name'] === 'string') out.name = m['name'];
  if (typeof m['uid'] === 'string') out.uid = m['uid'];
  return out;
}

/** Makes a {@link RecordingEventRecorder}. */
export function createRecordingEventRecorder(): RecordingEventRecorder {
  const events: RecordedEvent[] = [];
  const record = (input: EventInput): void => {
    events.push({
      type: input.type,
      reason: input.reason,
      note: input.note,
      action: input.action ?? input.reason,
      regarding: reference(input.regarding),
      ...(input.related && { related: reference(input.related) }),
    });
  };
  return {
    events,
    clear: () => {
      events.length = 0;
    },
    event: (regarding, type, reason, note, action) =>
      record({ regarding, type, reason, note, ...(action !== undefined && { action }) }),
    record,
    flush: async () => undefined,
    shutdown: async () => undefined,
  };
}
