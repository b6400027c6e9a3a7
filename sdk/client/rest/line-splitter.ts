/**
 * Splits newline-delimited bytes (a watch's JSON lines) into lines, across chunk boundaries. The split is on the raw
 * bytes: a newline byte never occurs inside a multi-byte UTF-8 character, so each complete line is decoded once,
 * straight from the chunk it lies in. Only a line split across chunks is joined first.
 *
 * With a {@link LineLimit}, a line longer than `maxLineBytes` throws what `tooLong` makes as soon as the bytes seen pass the limit, so an
 * endless line holds at most the limit (plus one chunk) in memory.
 */
export class LineSplitter {
  #carry: Buffer[] = [];
  #carried = 0;
  readonly #limit: LineLimit | undefined;

  /** Without `limit`, lines may be of any length. */
  constructor(limit?: LineLimit) {
    this.#limit = limit;
  }

  /** The lines that `chunk` completes, without their `\n`; the bytes after its last newline wait for the next chunk. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      this.#check(this.#carried + nl - start);
      if (this.#carry.length > 0) {
        this.#carry.push(chunk.subarray(start, nl));
        lines.push(Buffer.concat(this.#carry).toString('utf8'));
        this.#carry = [];
        this.#carried = 0;
      } else {
        lines.push(chunk.toString('utf8', start, nl));
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.#check(this.#carried + chunk.length - start);
      this.#carry.push(chunk.subarray(start));
      this.#carried += chunk.length - start;
    }
    return lines;
  }

  /** The bytes after the last newline, decoded (a last line without a newline), or undefined when there are none. */
  rest(): string | undefined {
    return this.#carry.length > 0 ? Buffer.concat(this.#carry).toString('utf8') : undefined;
  }

  #check(lineBytes: number): void {
    if (this.#limit && lineBytes > this.#limit.maxLineBytes) {
      this.#carry = [];
      this.#carried = 0;
      throw this.#limit.tooLong(this.#limit.maxLineBytes);
    }
  }
}

/** The longest line a {@link LineSplitter} takes, and the error it throws for a longer one. */
export interface LineLimit {
  maxLineBytes: number;
  tooLong(maxLineBytes: number): Error;
}
