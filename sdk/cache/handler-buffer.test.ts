import { describe, expect, it } from 'vitest';
import { HandlerBuffer, type Notification } from './handler-buffer.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('HandlerBuffer', () => {
  it('delivers in order, never synchronously inside push', async () => {
    const seen: string[] = [];
    const b = new HandlerBuffer<string>(
      {
        onAdd: (o, initial) => void seen.push(`add ${o} ${initial}`),
        onUpdate: (o, n) => void seen.push(`update ${o}->${n}`),
        onDelete: (o) => void seen.push(`delete ${String(o)}`),
      },
      () => undefined,
    );
    b.push({ type: 'add', obj: 'a', initial: true });
    b.push({ type: 'update', oldObj: 'a', newObj: 'b' });
    b.push({ type: 'delete', obj: 'b' });
    expect(seen).toEqual([]);
    await b.idle();
    expect(seen).toEqual(['add a true', 'update a->b', 'delete b']);
  });

  it('delivers pushAdds as one add per object, in order with single pushes, and reports a failure per object', async () => {
    const seen: string[] = [];
    const failed: string[] = [];
    const b = new HandlerBuffer<string>(
      {
        onAdd: (o, initial) => {
          if (o === 'bad') throw new Error('bad');
          seen.push(`add ${o} ${initial}`);
        },
        onUpdate: (o, n) => void seen.push(`update ${o}->${n}`),
      },
      (_err, n) => void failed.push(`${n.type} ${n.type === 'add' ? `${n.obj} ${n.initial}` : ''}`),
    );
    b.push({ type: 'update', oldObj: 'x', newObj: 'y' });
    b.pushAdds(['a', 'bad', 'c'], true);
    b.pushAdds([], true);
    b.push({ type: 'add', obj: 'd', initial: false });
    expect(b.length).toBe(5);
    expect(b.initialDelivered).toBe(false);
    await b.idle();
    expect(seen).toEqual(['update x->y', 'add a true', 'add c true', 'add d false']);
    expect(failed).toEqual(['add bad true']);
    expect(b.length).toBe(0);
    expect(b.initialDelivered).toBe(true);
  });

  it('counts and stops inside a pushAdds batch', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const b = new HandlerBuffer<string>(
      {
        onAdd: async (o) => {
          seen.push(o);
          if (o === '2') await new Promise<void>((resolve) => (release = resolve));
        },
      },
      () => undefined,
    );
    b.pushAdds(['1', '2', '3', '4'], true);
    await tick();
    expect(seen).toEqual(['1', '2']);
    expect(b.length).toBe(2);
    expect(b.initialDelivered).toBe(false);
    b.stop();
    release();
    await b.idle();
    expect(seen).toEqual(['1', '2']);
    expect(b.length).toBe(0);
  });

  it('awaits a handler that returns a promise before the next notification', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const b = new HandlerBuffer<string>(
      {
        onAdd: async (o) => {
          seen.push(`start ${o}`);
          if (o === 'slow') await new Promise<void>((resolve) => (release = resolve));
          seen.push(`end ${o}`);
        },
      },
      () => undefined,
    );
    b.push({ type: 'add', obj: 'slow', initial: true });
    b.push({ type: 'add', obj: 'next', initial: true });
    await tick();
    expect(seen).toEqual(['start slow']);
    expect(b.initialDelivered).toBe(false);
    expect(b.length).toBe(1);
    release();
    await b.idle();
    expect(seen).toEqual(['start slow', 'end slow', 'start next', 'end next']);
    expect(b.initialDelivered).toBe(true);
  });

  it('keeps one slow handler from holding up another', async () => {
    const fast: string[] = [];
    let release!: () => void;
    const slow = new HandlerBuffer<string>(
      { onAdd: () => new Promise<void>((resolve) => (release = resolve)) },
      () => undefined,
    );
    const quick = new HandlerBuffer<string>({ onAdd: (o) => void fast.push(o) }, () => undefined);
    for (const o of ['1', '2', '3']) {
      const n: Notification<string> = { type: 'add', obj: o, initial: false };
      slow.push(n);
      quick.push(n);
    }
    await quick.idle();
    expect(fast).toEqual(['1', '2', '3']);
    expect(slow.length).toBe(2);
    release();
    slow.stop();
    await slow.idle();
  });

  it('reports a throwing or rejecting handler and goes on', async () => {
    const errors: string[] = [];
    const seen: string[] = [];
    const b = new HandlerBuffer<string>(
      {
        onAdd: (o) => {
          if (o === 'bad') throw new Error('sync boom');
          if (o === 'worse') return Promise.reject(new Error('async boom'));
          seen.push(o);
          return undefined;
        },
      },
      (err, n) => errors.push(`${(err as Error).message} on ${n.type}`),
    );
    for (const o of ['bad', 'ok', 'worse', 'fine']) b.push({ type: 'add', obj: o, initial: false });
    await b.idle();
    expect(seen).toEqual(['ok', 'fine']);
    expect(errors).toEqual(['sync boom on add', 'async boom on add']);
  });

  it('drops what is buffered on stop and delivers nothing more', async () => {
    const seen: string[] = [];
    const b = new HandlerBuffer<string>({ onAdd: (o) => void seen.push(o) }, () => undefined);
    b.push({ type: 'add', obj: 'a', initial: false });
    b.stop();
    b.push({ type: 'add', obj: 'b', initial: false });
    await b.idle();
    expect(seen).toEqual([]);
  });

  it('lets the event loop run during a long burst of synchronous calls', async () => {
    let calls = 0;
    let timerFiredAt = -1;
    const b = new HandlerBuffer<number>({ onAdd: () => void calls++ }, () => undefined);
    for (let i = 0; i < 5000; i++) b.push({ type: 'add', obj: i, initial: false });
    setImmediate(() => (timerFiredAt = calls));
    await b.idle();
    expect(calls).toBe(5000);
    expect(timerFiredAt).toBeGreaterThan(0);
    expect(timerFiredAt).toBeLessThan(5000);
  });
});
