import { describe, expect, it } from 'vitest';
import { Deque } from './deque.js';

describe('Deque', () => {
  it('is FIFO through growth, wrap-around and shrinking, like an array used as a queue', () => {
    const deque = new Deque<number>();
    const model: number[] = [];
    const got: (number | undefined)[] = [];
    const want: (number | undefined)[] = [];
    let next = 0;
    let state = 1;
    const random = (n: number): number => {
      state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
      return state % n;
    };
    // Phases that fill to ~20k, drain to empty, and churn in between, so the ring grows, wraps and shrinks.
    for (const [steps, pushBias] of [
      [30_000, 0.8],
      [30_000, 0.2],
      [20_000, 0.5],
      [30_000, 0.8],
      [40_000, 0.1],
    ] as const) {
      for (let i = 0; i < steps; i++) {
        if (random(1000) < pushBias * 1000) {
          deque.push(next);
          model.push(next++);
        } else {
          got.push(deque.shift());
          want.push(model.shift());
        }
        if (deque.size !== model.length) throw new Error(`size ${deque.size} != ${model.length} at ${i}`);
      }
    }
    expect(got).toEqual(want);
    const rest: number[] = [];
    deque.drain((value) => rest.push(value));
    expect(rest).toEqual(model);
    expect(deque.size).toBe(0);
    expect(deque.shift()).toBeUndefined();
  });
});
