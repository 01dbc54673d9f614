/**
 * Crash-safe file writes: data goes to a temp file in the target's directory, is fsynced, then
 * renamed over the target, and the directory is fsynced so the rename itself is durable. A reader
 * sees either the old file or the complete new one, never a partial write.
 *
 * Temp files are named `<file>.<pid>.<12 hex digits>.tmp`: a process killed mid-write leaves one
 * behind, and the PID lets removeStaleTemporaries tell a dead writer's leftovers from a live one's.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsReason, UserError, withPath } from './errors.js';

/** Error codes from fsyncing a directory on platforms or file systems that do not support it. */
const DIR_FSYNC_UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EBADF']);

/** Create `dir` and any missing parents; no-op if it already exists. */
export function ensureDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
}

/**
 * Make sure an output directory can be written before any long work starts: create it (and its parents)
 * and write and remove a probe file. A path that is a file, lies under a file or cannot be written gives
 * one UserError naming the flag and the path. With `create: false` nothing is left behind: the probe
 * goes into the directory or, if it does not exist yet, into its nearest existing parent.
 */
export function checkOutDir(dir: string, flag = '--out', o: { create?: boolean } = {}): void {
  let at = path.resolve(dir);
  while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  if (fs.existsSync(at) && !fs.statSync(at).isDirectory())
    throw new UserError(
      at === path.resolve(dir)
        ? `${flag} ${dir}: is a file, not a directory`
        : `${flag} ${dir}: ${at} is a file, so no directory can be made under it`,
    );
  try {
    if (o.create !== false) ensureDir(dir);
    const probe = tempPath(path.join(o.create !== false ? dir : at, '.minnow-write-check'));
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (e) {
    let code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    // mkdir -p on a read-only file system says ENOENT; a probe in the parent that exists tells why.
    if (code === 'ENOENT') code = probeCode(at) ?? code;
    throw new UserError(`${flag} ${dir}: cannot write there (${fsReason(code)})`);
  }
}

/** The error code of writing a probe file in the directory `dir`; undefined when it can be written. */
function probeCode(dir: string): string | undefined {
  const probe = tempPath(path.join(dir, '.minnow-write-check'));
  try {
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
}

/**
 * Remove `dir` if it holds nothing but entries named in `names`: what a run made before it stopped at
 * bad input (finetune --preset's `init/`), so that a refused run leaves nothing behind. Returns whether
 * it was removed; a directory with anything else in it (checkpoints, a user's files) stays.
 */
export function removeIfOnly(dir: string, names: readonly string[]): boolean {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return false;
  }
  if (!entries.every((e) => names.includes(e))) return false;
  fs.rmSync(dir, { recursive: true, force: true });
  return true;
}

/**
 * An output directory that must not be one of the run's inputs (`--model`: writing there overwrites the
 * model it starts from) nor an exported folder (config.json with minnow_export: two models' files would
 * mix in one folder). One UserError naming both.
 */
export function checkOutIsNotInput(out: string, inputs: Record<string, string>, flag = '--out'): void {
  for (const [inputFlag, dir] of Object.entries(inputs))
    if (path.resolve(out) === path.resolve(dir))
      throw new UserError(
        `${flag} ${out}: is the ${inputFlag} directory, which it would overwrite; choose another directory`,
      );
  try {
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as unknown;
    if (typeof config === 'object' && config !== null && 'minnow_export' in config)
      throw new UserError(
        `${flag} ${out}: holds an exported model (minnow export); choose another directory, or remove it first`,
      );
  } catch (e) {
    if (e instanceof UserError) throw e; // no config.json, or not JSON: not an export
  }
}

/**
 * Atomically replace `file` with `data` (strings are written as UTF-8). On any failure the temp
 * file is removed, the error rethrown, and the previous contents of `file` are left intact.
 */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = tempPath(file);
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
    throw withPath(err, file);
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
    this.tmp = tempPath(file);
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
    try {
      while (written < bytes.byteLength) written += fs.writeSync(this.fd!, bytes, written);
    } catch (e) {
      throw withPath(e, this.file); // a full disk names the file being written
    }
    this.buf = [];
    this.size = 0;
  }

  commit(): void {
    this.flush();
    try {
      fs.fsyncSync(this.fd!);
      fs.closeSync(this.fd!);
      this.fd = undefined;
      fs.renameSync(this.tmp, this.file);
    } catch (e) {
      throw withPath(e, this.file);
    }
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

/** The temp file an atomic write of `file` goes through: `<file>.<pid>.<12 hex digits>.tmp`. */
function tempPath(file: string): string {
  return `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

const ATOMIC_TEMP = /^.+\.(\d{1,10})\.[0-9a-f]{12}\.tmp$/;

/** The PID of the process that made `name` (a base name) if it is a writeFileAtomic/AtomicStream temp. */
export function atomicTempOwner(name: string): number | undefined {
  const m = ATOMIC_TEMP.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Whether process `pid` is (or may be) alive: signal 0 checks without sending anything; ESRCH means no
 * such process, EPERM means it exists under another user. Anything doubtful counts as alive.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return true; // 0 and negatives name process groups
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export interface Cleanup {
  removed: string[]; // paths removed
  bytes: number; // their size on disk (apparent size of the files in them)
}

/**
 * Remove the entries of `dir` (not recursing) that `ownerOf` attributes to a process that is no longer
 * running: temporaries left by killed writers. Entries it gives no PID for, and those of live
 * processes, are kept. A missing `dir` is empty; an entry that cannot be removed is skipped.
 */
export function removeStaleTemporaries(
  dir: string,
  ownerOf: (name: string) => number | undefined = atomicTempOwner,
): Cleanup {
  const out: Cleanup = { removed: [], bytes: 0 };
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const name of names.sort()) {
    const pid = ownerOf(name);
    if (pid === undefined || processAlive(pid)) continue;
    const p = path.join(dir, name);
    try {
      const bytes = diskBytes(p);
      fs.rmSync(p, { recursive: true, force: true });
      out.removed.push(p);
      out.bytes += bytes;
    } catch {
      // best effort: a leftover we cannot remove is no reason to stop the caller
    }
  }
  return out;
}

/**
 * Clean up after killed writers of the folder `target` (written as `<target>.tmp-<pid>`, the previous one
 * kept as `<target>.old-<pid>` while it is swapped): a dead process's `.tmp-` folder is removed; its
 * `.old-` folder is put back when `target` is missing (it was killed between the two renames) and removed
 * otherwise. Those of live processes stay.
 */
export function removeStaleFolderTemporaries(target: string): Cleanup {
  const base = path.basename(target);
  const parent = path.dirname(path.resolve(target));
  const pattern = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(tmp|old)-(\\d{1,10})$`);
  for (const name of safeReaddir(parent)) {
    const m = pattern.exec(name);
    if (m && m[1] === 'old' && !processAlive(Number(m[2])) && !fs.existsSync(target))
      fs.renameSync(path.join(parent, name), target);
  }
  return removeStaleTemporaries(parent, (name) => {
    const m = pattern.exec(name);
    return m ? Number(m[2]) : undefined;
  });
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Total size of the regular files at or under `p` (symbolic links are not followed). */
function diskBytes(p: string): number {
  const st = fs.lstatSync(p);
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  let total = 0;
  for (const name of fs.readdirSync(p)) total += diskBytes(path.join(p, name));
  return total;
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
