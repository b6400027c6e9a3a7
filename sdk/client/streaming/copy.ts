/**
 * `cp` through tar over exec, as kubectl does it: `tar xmf - -C <dir>` in the container reads an archive made here, and
 * `tar cf - -C <dir> <name>` in the container writes one read here. The container needs a `tar` on its PATH.
 *
 * The archive format is tar-stream's (mafintosh/tar-stream, the streaming tar of tar-fs and dockerode): a streaming
 * reader and writer of ustar and pax with no native code; reading is where the danger is (an archive from the
 * container may name `../../etc/passwd`), and every entry's path is checked here before anything is written.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pack } from 'tar-stream';
import { ArgumentError, StreamError, type RequestInfo } from '../errors.js';
import type { ExecStream } from './remote-command.js';

/** Options of `copyToPod`. */
export interface CopyToPodOptions {
  /** The local file or folder to copy. */
  source: string;
  /** The path it gets in the container (its parent folder must exist there), as `kubectl cp src pod:dest`. */
  destination: string;
  /** The container; may be left out when the pod has one container. */
  container?: string;
  /** Stops the copy and closes the connection. */
  signal?: AbortSignal;
}

/** Options of `copyFromPod`. */
export interface CopyFromPodOptions {
  /** The file or folder in the container. */
  source: string;
  /** The local path it gets; its parent folder is made when missing. */
  destination: string;
  container?: string;
  signal?: AbortSignal;
}

/** What `copyFromPod` wrote. */
export interface CopyFromPodResult {
  /** How many files were written. */
  files: number;
  /** Symbolic and hard links in the archive, not made (as kubectl skips them), relative to the destination. */
  skippedLinks: string[];
}

/** Starts an exec; what `copyToPod` and `copyFromPod` run `tar` with. */
export type StartExec = (command: string[], stdin: boolean) => ExecStream;

function checkPaths(source: unknown, destination: unknown): void {
  if (typeof source !== 'string' || source === '') throw new ArgumentError('source must be a non-empty path');
  if (typeof destination !== 'string' || destination === '') {
    throw new ArgumentError('destination must be a non-empty path');
  }
}

/** Adds `path` (a file, a folder and what it holds, or a symbolic link) to `pack` as `name`. */
async function addToArchive(pack: Pack, path: string, name: string): Promise<void> {
  const stat = await lstat(path);
  const common = { name, mode: stat.mode & 0o7777, mtime: stat.mtime };
  if (stat.isDirectory()) {
    await entry(pack, { ...common, type: 'directory' });
    for (const child of (await readdir(path)).toSorted())
      await addToArchive(pack, join(path, child), `${name}/${child}`);
  } else if (stat.isFile()) {
    const sink = pack.entry({ ...common, type: 'file', size: stat.size });
    await pipeline(createReadStream(path), sink);
  }
  // Sockets, devices and symbolic links are left out, as kubectl leaves them.
}

function entry(pack: Pack, header: Parameters<Pack['entry']>[0]): Promise<void> {
  return new Promise((done, reject) => pack.entry(header, (err) => (err ? reject(err) : done())));
}

/** The first lines of what tar said on stderr, for an error message. */
function stderrText(chunks: Buffer[]): string {
  const text = Buffer.concat(chunks).toString('utf8').trim();
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

async function finishTar(session: ExecStream, stderr: Buffer[], request: RequestInfo, what: string): Promise<void> {
  const exitCode = await session.exitCode;
  if (exitCode !== 0) {
    const said = stderrText(stderr);
    throw new StreamError(
      'ERR_KUBE_COPY',
      `tar ${what} in the container exited with ${exitCode}${said ? `: ${said}` : ''}`,
      request,
    );
  }
}

function collectStderr(session: ExecStream): Buffer[] {
  const chunks: Buffer[] = [];
  session.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk));
  session.stderr?.on('error', () => undefined);
  return chunks;
}

/** Copies a local file or folder into the container; resolves once `tar` there exited 0. */
export async function copyToPod(start: StartExec, options: CopyToPodOptions, request: RequestInfo): Promise<void> {
  checkPaths(options.source, options.destination);
  try {
    await lstat(options.source);
  } catch (err) {
    throw new ArgumentError(
      `source ${JSON.stringify(options.source)} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`,
      { cause: err },
    );
  }
  const destination = posix.normalize(options.destination.replace(/\/+$/, '') || '/');
  const { pack: tarPack } = await import('tar-stream'); // on first copy, not with the client
  const session = start(['tar', 'xmf', '-', '-C', posix.dirname(destination)], true);
  const stderr = collectStderr(session);
  session.stdout?.resume();
  const pack = tarPack();
  const sending = pipeline(pack, session.stdin!).catch(() => undefined);
  const writing = (async () => {
    try {
      await addToArchive(pack, options.source, posix.basename(destination));
      pack.finalize();
    } catch (err) {
      session.close();
      throw err;
    }
  })();
  await Promise.all([writing, sending, finishTar(session, stderr, request, 'extracting')]);
}

/**
 * Where an archive entry goes under `root`, or a StreamError when it would land outside (an absolute path, `..`).
 * `prefix` is the archive's top name, which becomes `root`'s own name.
 */
export function entryPath(root: string, prefix: string, name: string, request?: RequestInfo): string {
  const clean = name.replace(/\/+$/, '');
  const unsafe = (): StreamError =>
    new StreamError(
      'ERR_KUBE_COPY',
      `the archive from the container holds ${JSON.stringify(name)}, a path outside ${JSON.stringify(prefix)}; the copy stopped there`,
      request,
    );
  if (clean === '' || posix.isAbsolute(clean) || isAbsolute(clean) || clean.includes('\\')) throw unsafe();
  const parts = clean.split('/');
  if (parts.some((p) => p === '..')) throw unsafe();
  const rest = parts.filter((p) => p !== '.' && p !== '');
  if (rest[0] !== prefix) throw unsafe();
  const target = resolve(root, ...rest.slice(1));
  const rel = relative(root, target);
  if (rel.startsWith('..') || isAbsolute(rel)) throw unsafe();
  return target;
}

/** Copies a file or folder of the container to a local path; resolves once `tar` there exited 0. */
export async function copyFromPod(
  start: StartExec,
  options: CopyFromPodOptions,
  request: RequestInfo,
): Promise<CopyFromPodResult> {
  checkPaths(options.source, options.destination);
  const source = posix.normalize(options.source.replace(/\/+$/, '') || '/');
  const prefix = posix.basename(source);
  if (prefix === '' || prefix === '..') throw new ArgumentError('source must name a file or folder, not a root');
  const root = resolve(options.destination);
  await mkdir(dirname(root), { recursive: true });
  // A name starting with `-` would read as an option of tar.
  const member = prefix.startsWith('-') ? `./${prefix}` : prefix;
  const { extract: tarExtract } = await import('tar-stream'); // on first copy, not with the client
  const session = start(['tar', 'cf', '-', '-C', posix.dirname(source), member], false);
  const stderr = collectStderr(session);
  const result: CopyFromPodResult = { files: 0, skippedLinks: [] };
  const extract = tarExtract();
  const reading = (async () => {
    for await (const file of extract) {
      const header = file.header;
      const target = entryPath(root, prefix, header.name, request);
      const shown = relative(dirname(root), target).split(sep).join('/');
      if (header.type === 'directory') {
        await mkdir(target, { recursive: true, mode: (header.mode & 0o777) | 0o700 });
        file.resume();
      } else if (header.type === 'file' || header.type === 'contiguous-file') {
        await mkdir(dirname(target), { recursive: true });
        await pipeline(file as unknown as Readable, createWriteStream(target, { mode: header.mode & 0o777 }));
        result.files++;
      } else {
        if (header.type === 'symlink' || header.type === 'link') result.skippedLinks.push(shown);
        file.resume();
      }
    }
  })();
  try {
    await Promise.all([pipeline(session.stdout!, extract), reading, finishTar(session, stderr, request, 'archiving')]);
  } catch (err) {
    session.close();
    extract.destroy();
    throw err;
  }
  return result;
}
