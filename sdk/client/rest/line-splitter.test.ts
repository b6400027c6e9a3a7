import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';

/** Pushes every chunk; returns the lines in order and the rest. */
function split(chunks: Buffer[]): { lines: string[]; rest: string | undefined } {
  const splitter = new LineSplitter();
  const lines = chunks.flatMap((c) => splitter.push(c));
  return { lines, rest: splitter.rest() };
}

describe('LineSplitter', () => {
  it('returns the complete lines of a chunk, without their newline, and keeps what follows the last one', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(Buffer.from('a\nbc\n\nde'))).toEqual(['a', 'bc', '']);
    expect(splitter.rest()).toBe('de');
    expect(splitter.push(Buffer.from('f\n'))).toEqual(['def']);
    expect(splitter.rest()).toBeUndefined();
  });

  it('joins a line split over any number of chunks, including a chunk without a newline', () => {
    expect(split([Buffer.from('{"a":'), Buffer.from('1'), Buffer.from('}\n{"b"'), Buffer.from(':2}\n')])).toEqual({
      lines: ['{"a":1}', '{"b":2}'],
      rest: undefined,
    });
  });

  it('decodes a multi-byte character split at every byte boundary', () => {
    const text = 'é€😀\nline two ü\n';
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(split([bytes.subarray(0, cut), bytes.subarray(cut)]), `cut at ${cut}`).toEqual({
        lines: ['é€😀', 'line two ü'],
        rest: undefined,
      });
    }
    expect(split([...bytes].map((b) => Buffer.from([b]))).lines).toEqual(['é€😀', 'line two ü']);
  });

  it('leaves a carriage return and empty lines to the caller, and has no rest for an empty stream', () => {
    expect(split([Buffer.from('x\r\n\r\n')])).toEqual({ lines: ['x\r', '\r'], rest: undefined });
    expect(split([])).toEqual({ lines: [], rest: undefined });
    expect(split([Buffer.alloc(0)])).toEqual({ lines: [], rest: undefined });
  });

  it('gives the last line without a newline as the rest', () => {
    expect(split([Buffer.from('one\ntw'), Buffer.from('o')])).toEqual({ lines: ['one'], rest: 'two' });
  });

  it('throws the limit error for a line over maxLineBytes, whether it spans chunks or lies in one', () => {
    const tooLong = (max: number): Error => new SyntaxError(`over ${max}`);
    const spanning = new LineSplitter({ maxLineBytes: 8, tooLong });
    expect(spanning.push(Buffer.from('12345678\n1234'))).toEqual(['12345678']);
    expect(() => spanning.push(Buffer.from('56789'))).toThrow('over 8');
    const single = new LineSplitter({ maxLineBytes: 8, tooLong });
    expect(() => single.push(Buffer.from('123456789\n'))).toThrow('over 8');
    const exact = new LineSplitter({ maxLineBytes: 8, tooLong });
    expect(exact.push(Buffer.from('1234'))).toEqual([]);
    expect(exact.push(Buffer.from('5678\n'))).toEqual(['12345678']);
  });
});
