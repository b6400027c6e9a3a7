import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { DeletedFinalStateUnknown, ResourceEventHandler } from './types.js';

/** One notification waiting in a handler's buffer. */
export type Notification<T> =
  | { readonly type: 'add'; readonly obj: T; readonly initial: boolean }
  | { readonly type: 'update'; readonly oldObj: T; readonly newObj: T }
  | { readonly type: 'delete'; readonly obj: T | DeletedFinalStateUnknown<T> };

/**
 * Adds of many objects in one queue entry (a list's content): no notification object per object. Delivered one object
 * at a time, as `add` notifications would be.
 */
interface Adds<T> {
  readonly type: 'adds';
  readonly objs: readonly T[];
  readonly initial: boolean;
}

/** How many synchronous handler calls run before the buffer lets the event loop breathe. */
const callsPerTurn = 512;

/**
 * The unbounded buffer in front of one handler: client-go's processorListener. The informer pushes notifications
 * synchronously; a drain loop hands them to the handler one at a time, awaiting a handler that returns a promise.
 *
 * Guarantees: notifications are delivered in push order, one at a time; pushing never blocks and never runs the
 * handler synchronously. After `stop()`, nothing more is delivered; `idle()` resolves once the handler call in
 * progress (if any) has settled.
 */
export class HandlerBuffer<T> {
  private queue: (Notification<T> | Adds<T> | undefined)[] = [];
  private head = 0;
  /** The next object of the {@link Adds} entry at `head`. */
  private next = 0;
  /** Notifications waiting, an {@link Adds} entry's objects counted one by one. */
  private waiting = 0;
  private draining: Promise<void> | undefined;
  private stopped = false;
  /** Initial-list notifications pushed but not yet delivered: the registration has synced when this is 0. */
  private initialPending = 0;

  constructor(
    private readonly handler: ResourceEventHandler<T>,
    private readonly onError: (err: unknown, notification: Notification<T>) => void,
  ) {}

  /** Notifications waiting, not counting one being handled. */
  get length(): number {
    return this.waiting;
  }

  /** True when every initial-list notification pushed so far has been handled. */
  get initialDelivered(): boolean {
    return this.initialPending === 0;
  }

  push(notification: Notification<T>): void {
    if (this.stopped) return;
    if (notification.type === 'add' && notification.initial) this.initialPending++;
    this.waiting++;
    this.queue.push(notification);
    if (!this.draining) this.draining = this.drain();
  }

  /** The same as pushing `{ type: 'add', obj, initial }` for each of `objs`, in order; the buffer keeps the array. */
  pushAdds(objs: readonly T[], initial: boolean): void {
    if (this.stopped || objs.length === 0) return;
    if (initial) this.initialPending += objs.length;
    this.waiting += objs.length;
    this.queue.push({ type: 'adds', objs, initial });
    if (!this.draining) this.draining = this.drain();
  }

  /** Drops what is buffered and delivers nothing more. */
  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.head = 0;
    this.next = 0;
    this.waiting = 0;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Resolves when nothing is being delivered. */
  idle(): Promise<void> {
    return this.draining ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    // Start on a later microtask: the pusher finishes its synchronous work (the store update) first.
    await Promise.resolve();
    let calls = 0;
    while (!this.stopped && this.head < this.queue.length) {
      const entry = this.queue[this.head]!;
      let n: Notification<T> | undefined;
      let obj: T | undefined;
      if (entry.type === 'adds') {
        obj = entry.objs[this.next++];
        if (this.next === entry.objs.length) this.next = 0;
      } else {
        n = entry;
      }
      if (this.next === 0) {
        this.queue[this.head++] = undefined;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
      }
      this.waiting--;
      const initial = n ? n.type === 'add' && n.initial : (entry as Adds<T>).initial;
      try {
        const result = n ? this.deliver(n) : (this.handler as ResourceEventHandler<unknown>).onAdd?.(obj, initial);
        if (result !== undefined) {
          calls = 0;
          await result;
        }
      } catch (err) {
        this.onError(err, n ?? { type: 'add', obj: obj!, initial });
      }
      if (initial) this.initialPending--;
      if (++calls >= callsPerTurn) {
        calls = 0;
        await yieldToEventLoop();
      }
    }
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    this.draining = undefined;
    if (!this.stopped && this.head < this.queue.length) this.draining = this.drain();
  }

  private deliver(n: Notification<T>): void | Promise<void> {
    const h = this.handler as ResourceEventHandler<unknown>;
    switch (n.type) {
      case 'add':
        return h.onAdd?.(n.obj, n.initial);
      case 'update':
        return h.onUpdate?.(n.oldObj, n.newObj);
      case 'delete':
        return h.onDelete?.(n.obj);
    }
    return undefined;
  }
}
