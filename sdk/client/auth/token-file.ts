/** A bearer token read from a file that may be rotated under us (projected service account tokens). */
import { readFile, stat } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { describeFileError } from '../config/internal/files.js';

export interface TokenFileSourceOptions {
  /** Re-read the file when the token in hand is older than this, in milliseconds. Default: 60000. */
  refreshMs?: number;
  /**
   * Between full re-reads, look at the file's modification time at most this often, and re-read at once when it
   * changed, so a rotated token is used by the next request. 0 turns it off. Default: 1000.
   */
  checkMs?: number;
  /** Clock, in milliseconds since the epoch. Default: `Date.now`. */
  now?: () => number;
  /**
   * Called when a periodic re-read fails and the previous token is kept. Default: nothing (the error is dropped;
   * the next call tries again).
   */
  onRefreshError?: (err: Error) => void;
}

export interface TokenFileSource {
  /** The token, trimmed; read from the file on first use, when older than `refreshMs`, or after `invalidate()`. */
  token(): Promise<string>;
  /** Forget the token in hand: the next `token()` re-reads the file (call it when the server answers 401). */
  invalidate(): void;
}

/**
 * A bearer token from a file, re-read periodically.
 *
 * Guarantees: concurrent callers share one read. The token is trimmed of surrounding whitespace. A file rewritten
 * in place or replaced (the kubelet swaps a symlink) is noticed within `checkMs` by its inode, size and modification
 * time, and re-read before the next request.
 *
 * Recovery: when a periodic re-read fails (the kubelet is replacing the file) and a token was read before, the
 * previous token is returned and the next call tries again, as client-go does. After `invalidate()` there is no
 * previous token to fall back on, so the error is thrown.
 *
 * Errors: a {@link ConfigError} (`ERR_KUBE_CONFIG`) naming the file when it cannot be read or is empty. The
 * message never contains the file's content.
 */
export function createTokenFileSource(path: string, options: TokenFileSourceOptions = {}): TokenFileSource {
  const refreshMs = options.refreshMs ?? 60_000;
  const checkMs = options.checkMs ?? 1000;
  const now = options.now ?? Date.now;
  let current: { token: string; readAt: number; checkedAt: number; version: string } | undefined;
  let reading: Promise<string> | undefined;

  const versionOf = async (): Promise<string> => {
    const s = await stat(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  };

  const read = async (): Promise<{ token: string; version: string }> => {
    let text: string;
    let version = '';
    try {
      version = await versionOf();
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read the bearer token file: ${describeFileError(err)}`, { file: path, cause: err });
    }
    const token = text.trim();
    if (!token) throw new ConfigError('the bearer token file is empty', { file: path });
    return { token, version };
  };

  const changed = async (held: NonNullable<typeof current>): Promise<boolean> => {
    held.checkedAt = now();
    try {
      return (await versionOf()) !== held.version;
    } catch {
      return false; // being replaced: keep the token in hand until the next check
    }
  };

  return {
    token() {
      const held = current;
      if (held && now() - held.readAt < refreshMs) {
        if (checkMs <= 0 || now() - held.checkedAt < checkMs) return Promise.resolve(held.token);
        return changed(held).then((yes) => (yes ? refresh() : held.token));
      }
      return refresh();
    },
    invalidate() {
      current = undefined;
    },
  };

  function refresh(): Promise<string> {
    reading ??= read()
      .then(
        ({ token, version }) => {
          current = { token, readAt: now(), checkedAt: now(), version };
          return token;
        },
        (err: unknown) => {
          if (!current) throw err;
          options.onRefreshError?.(err as Error);
          return current.token;
        },
      )
      .finally(() => {
        reading = undefined;
      });
    return reading;
  }
}
