const minCapacity = 16;
/** Capacity kept however empty the deque gets, so a queue that fills and empties every round does not reallocate. */
const keepCapacity = 1024;

/**
 * A FIFO on a power-of-two ring buffer: O(1) push and shift with no copying on shift (unlike `Array.prototype.shift`
 * on large arrays). It grows by doubling and, above 1024 slots, shrinks by half when a quarter full, so a burst does
 * not pin memory.
 */
export class Deque<T> {
  #buffer: (T | undefined)[] = Array.from<T | undefined>({ length: minCapacity });
  #mask = minCapacity - 1;
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(value: T): void {
    if (this.#size === this.#buffer.length) this.#resize(this.#buffer.length * 2);
    this.#buffer[(this.#head + this.#size) & this.#mask] = value;
    this.#size++;
  }

  /** Removes and returns the oldest value; `undefined` when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const value = this.#buffer[this.#head];
    this.#buffer[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#size--;
    if (this.#buffer.length > keepCapacity && this.#size <= this.#buffer.length >>> 2)
      this.#resize(this.#buffer.length >>> 1);
    return value;
  }

  /** Calls `fn` on every value, oldest first, then empties the deque. */
  drain(fn: (value: T) => void): void {
    while (this.#size > 0) fn(this.shift()!);
  }

  #resize(capacity: number): void {
    const next = Array.from<T | undefined>({ length: capacity });
    for (let i = 0; i < this.#size; i++) next[i] = this.#buffer[(this.#head + i) & this.#mask];
    this.#buffer = next;
    this.#mask = capacity - 1;
    this.#head = 0;
  }
}
