/**
 * Crash-safe file writes: data goes to a temp file in the target's directory, is fsynced, then
 * renamed over the target, and the directory is fsynced so the rename itself is durable. A reader
 * sees either the old file or the complete new one, never a partial write.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Error codes from fsyncing a directory on platforms or file systems that do not support it. */
const DIR_FSYNC_UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EBADF']);

/** Create `dir` and any missing parents; no-op if it already exists. */
export function ensureDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
}

/**
 * Atomically replace `file` with `data` (strings are written as UTF-8). On any failure the temp
 * file is removed, the error rethrown, and the previous contents of `file` are left intact.
 */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', existingMode(file));
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (!(bytes instanceof Uint8Array))
      throw new TypeError(`writeFileAtomic ${file}: data must be a Uint8Array or string`);
    let written = 0;
    while (written < bytes.byteLength) {
      written += fs.writeSync(fd, bytes, written, bytes.byteLength - written);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(path.dirname(file));
}

/**
 * A file written in pieces under a temporary name, fsynced and renamed into place on `commit` (the
 * protocol of writeFileAtomic, streamed: an augmented MNLI does not fit in one string). Call `abort` on
 * failure to remove the temporary file; the previous contents of `file` are untouched until `commit`).
 */
export class AtomicStream {
  private readonly tmp: string;
  private fd: number | undefined;
  private buf: string[] = [];
  private size = 0;

  constructor(readonly file: string) {
    this.tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    this.fd = fs.openSync(this.tmp, 'wx');
  }

  write(s: string): void {
    this.buf.push(s);
    this.size += s.length;
    if (this.size >= 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    const bytes = Buffer.from(this.buf.join(''), 'utf8');
    let written = 0;
    while (written < bytes.byteLength) written += fs.writeSync(this.fd!, bytes, written);
    this.buf = [];
    this.size = 0;
  }

  commit(): void {
    this.flush();
    fs.fsyncSync(this.fd!);
    fs.closeSync(this.fd!);
    this.fd = undefined;
    fs.renameSync(this.tmp, this.file);
    fsyncDir(path.dirname(this.file));
  }

  abort(): void {
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already failing
      }
      this.fd = undefined;
    }
    fs.rmSync(this.tmp, { force: true });
  }
}

/** Keep the permission bits of a file being replaced; new files get the default 0o666 & ~umask. */
function existingMode(file: string): number {
  try {
    return fs.statSync(file).mode & 0o777;
  } catch {
    return 0o666;
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined || !DIR_FSYNC_UNSUPPORTED.has(code)) throw err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
