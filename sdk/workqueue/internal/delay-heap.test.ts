import { describe, expect, it } from 'vitest';
import { DelayHeap } from './delay-heap.js';

describe('DelayHeap', () => {
  it('pops keys by earliest ready time, ties by first push, one entry per key keeping its earliest time', () => {
    const heap = new DelayHeap<string>();
    const model = new Map<string, { at: number; seq: number }>();
    let seq = 0;
    let state = 3;
    const random = (n: number): number => {
      state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
      return state % n;
    };
    const problems: string[] = [];
    const popped: string[] = [];
    const expected: string[] = [];
    const modelEarliest = (): number => {
      let earliest = Infinity;
      for (const { at } of model.values()) if (at < earliest) earliest = at;
      return earliest;
    };
    const popFromModel = (): string => {
      let best: [string, { at: number; seq: number }] | undefined;
      for (const entry of model) {
        if (!best || entry[1].at < best[1].at || (entry[1].at === best[1].at && entry[1].seq < best[1].seq))
          best = entry;
      }
      model.delete(best![0]);
      return best![0];
    };
    for (let i = 0; i < 20_000; i++) {
      if (random(3) > 0 || model.size === 0) {
        const key = `k${random(3000)}`;
        const at = random(1000);
        const old = model.get(key);
        const earliestBefore = modelEarliest();
        const changed = heap.push(key, at);
        if (!old) model.set(key, { at, seq: seq++ });
        else if (at < old.at) old.at = at;
        if (changed !== (modelEarliest() !== earliestBefore))
          problems.push(`push(${key}, ${at}) said changed=${changed}`);
        if (heap.peekReadyAt() !== modelEarliest())
          problems.push(`earliest ${heap.peekReadyAt()} after push(${key}, ${at})`);
      } else {
        popped.push(heap.pop()!);
        expected.push(popFromModel());
      }
      if (heap.size !== model.size) problems.push(`size ${heap.size}, expected ${model.size}`);
    }
    while (model.size > 0) {
      popped.push(heap.pop()!);
      expected.push(popFromModel());
    }
    expect(problems).toEqual([]);
    expect(popped).toEqual(expected);
    expect(heap.pop()).toBeUndefined();
    expect(heap.peekReadyAt()).toBe(Infinity);
  });
});
