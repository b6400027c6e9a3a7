/**
 * Splits newline-delimited bytes (a watch's JSON lines) into lines, across chunk boundaries. The split is on the raw
 * bytes: a newline byte never occurs inside a multi-byte UTF-8 character, so each complete line is decoded once,
 * straight from the chunk it lies in. Only a line split across chunks is joined first.
 */
export class LineSplitter {
  #carry: Buffer[] = [];

  /** The lines that `chunk` completes, without their `\n`; the bytes after its last newline wait for the next chunk. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      if (this.#carry.length > 0) {
        this.#carry.push(chunk.subarray(start, nl));
        lines.push(Buffer.concat(this.#carry).toString('utf8'));
        this.#carry = [];
      } else {
        lines.push(chunk.toString('utf8', start, nl));
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.#carry.push(chunk.subarray(start));
    return lines;
  }

  /** The bytes after the last newline, decoded (a last line without a newline), or undefined when there are none. */
  rest(): string | undefined {
    return this.#carry.length > 0 ? Buffer.concat(this.#carry).toString('utf8') : undefined;
  }
}
