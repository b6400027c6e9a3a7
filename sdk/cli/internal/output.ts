/** Where the CLI writes: results to standard output, progress and errors to standard error. */
export interface Output {
  /** A result line (files written, next steps). */
  info(line: string): void;
  /** A progress line. */
  progress(line: string): void;
  /** Rewrites the current progress line in place (terminals only); an empty string clears it. */
  progressLine(text: string): void;
  /** Data on standard output (generated TypeScript), written as it is. */
  data(text: string): void;
  /** True when standard error is a terminal. */
  readonly isTTY: boolean;
}

export interface OutputStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export function createOutput(streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr }): Output {
  const isTTY = streams.stderr.isTTY === true;
  return {
    isTTY,
    info: (line) => void streams.stdout.write(`${line}\n`),
    progress: (line) => void streams.stderr.write(`${line}\n`),
    progressLine: (text) => void streams.stderr.write(`\r\u001b[2K${text}`),
    data: (text) => void streams.stdout.write(text),
  };
}
