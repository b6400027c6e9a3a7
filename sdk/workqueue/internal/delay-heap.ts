const minCapacity = 16;

/**
 * A binary min-heap of keys by ready time, one entry per key. Ready times and insertion sequence numbers live in one
 * growable Float64Array (ties pop in insertion order), keys in a plain array, and a Map from key to heap position
 * de-duplicates and lets an earlier ready time move an entry up. About 30 bytes per entry beyond the Map's own.
 */
export class DelayHeap<K> {
  #keys: K[] = [];
  /** [readyAt, seq] pairs, parallel to #keys. */
  #times = new Float64Array(minCapacity * 2);
  readonly #position = new Map<K, number>();
  #seq = 0;

  get size(): number {
    return this.#keys.length;
  }

  /** The earliest ready time, or `Infinity` when empty. */
  peekReadyAt(): number {
    return this.#keys.length === 0 ? Infinity : this.#times[0]!;
  }

  /**
   * Adds `key` ready at `readyAt`; a key already waiting keeps the earlier of its two ready times. Returns true when the
   * earliest ready time of the heap changed.
   */
  push(key: K, readyAt: number): boolean {
    const before = this.peekReadyAt();
    const at = this.#position.get(key);
    if (at !== undefined) {
      if (readyAt >= this.#times[at * 2]!) return false;
      this.#times[at * 2] = readyAt;
      this.#up(at);
    } else {
      const index = this.#keys.length;
      if ((index + 1) * 2 > this.#times.length) this.#resize(this.#times.length * 2);
      this.#keys.push(key);
      this.#times[index * 2] = readyAt;
      this.#times[index * 2 + 1] = this.#seq++;
      this.#position.set(key, index);
      this.#up(index);
    }
    return this.peekReadyAt() !== before;
  }

  /** Removes and returns the key with the earliest ready time; `undefined` when empty. */
  pop(): K | undefined {
    const keys = this.#keys;
    if (keys.length === 0) return undefined;
    const top = keys[0]!;
    const last = keys.pop()!;
    this.#position.delete(top);
    if (keys.length > 0) {
      keys[0] = last;
      this.#times[0] = this.#times[keys.length * 2]!;
      this.#times[1] = this.#times[keys.length * 2 + 1]!;
      this.#position.set(last, 0);
      this.#down(0);
    }
    if (this.#times.length > minCapacity * 2 && keys.length * 8 <= this.#times.length)
      this.#resize(this.#times.length / 2);
    return top;
  }

  clear(): void {
    this.#keys = [];
    this.#times = new Float64Array(minCapacity * 2);
    this.#position.clear();
  }

  /** Moves the entry at `index` up to its place, shifting parents down into the hole (one Map write per level). */
  #up(index: number): void {
    const keys = this.#keys;
    const times = this.#times;
    const key = keys[index]!;
    const at = times[index * 2]!;
    const seq = times[index * 2 + 1]!;
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      const parentAt = times[parent * 2]!;
      if (at > parentAt || (at === parentAt && seq > times[parent * 2 + 1]!)) break;
      this.#move(parent, i);
      i = parent;
    }
    if (i !== index) this.#place(key, at, seq, i);
  }

  /** Moves the entry at `index` down to its place, shifting the smaller child up into the hole. */
  #down(index: number): void {
    const keys = this.#keys;
    const times = this.#times;
    const n = keys.length;
    const key = keys[index]!;
    const at = times[index * 2]!;
    const seq = times[index * 2 + 1]!;
    let i = index;
    for (;;) {
      const left = i * 2 + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n) {
        const leftAt = times[left * 2]!;
        const rightAt = times[right * 2]!;
        if (rightAt < leftAt || (rightAt === leftAt && times[right * 2 + 1]! < times[left * 2 + 1]!)) child = right;
      }
      const childAt = times[child * 2]!;
      if (at < childAt || (at === childAt && seq < times[child * 2 + 1]!)) break;
      this.#move(child, i);
      i = child;
    }
    if (i !== index) this.#place(key, at, seq, i);
  }

  #move(from: number, to: number): void {
    const key = this.#keys[from]!;
    this.#keys[to] = key;
    this.#times[to * 2] = this.#times[from * 2]!;
    this.#times[to * 2 + 1] = this.#times[from * 2 + 1]!;
    this.#position.set(key, to);
  }

  #place(key: K, at: number, seq: number, index: number): void {
    this.#keys[index] = key;
    this.#times[index * 2] = at;
    this.#times[index * 2 + 1] = seq;
    this.#position.set(key, index);
  }

  #resize(length: number): void {
    const next = new Float64Array(length);
    next.set(this.#times.subarray(0, Math.min(length, this.#keys.length * 2)));
    this.#times = next;
  }
}
