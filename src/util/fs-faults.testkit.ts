/**
 * Test support: simulate a full disk or a read-only one for a child process, without mounting
 * anything. Preload it (`node --import tsx --import ./src/util/fs-faults.testkit.ts ...`) with
 *
 *   MINNOW_FULL_DISK=DIR   every write of data into a file under DIR fails with ENOSPC
 *   MINNOW_FULL_DISK_MIN=N with MINNOW_FULL_DISK: only writes of N bytes or more fail (small files fit)
 *   MINNOW_READ_ONLY=DIR   creating a file or directory under DIR fails with EROFS
 *
 * It patches the `node:fs` functions minnow writes with and syncs the ES module bindings, so the
 * code under test runs unchanged.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import * as path from 'node:path';

const full = process.env.MINNOW_FULL_DISK ? path.resolve(process.env.MINNOW_FULL_DISK) : undefined;
const fullMin = Number(process.env.MINNOW_FULL_DISK_MIN ?? 1);
const readOnly = process.env.MINNOW_READ_ONLY ? path.resolve(process.env.MINNOW_READ_ONLY) : undefined;

const under = (root: string | undefined, p: fs.PathLike | number): boolean =>
  root !== undefined &&
  typeof p !== 'number' &&
  (path.resolve(String(p)) === root || path.resolve(String(p)).startsWith(root + path.sep));

function fail(code: 'ENOSPC' | 'EROFS', syscall: string, p?: fs.PathLike): never {
  const what = code === 'ENOSPC' ? 'no space left on device' : 'read-only file system';
  const e = new Error(`${code}: ${what}, ${syscall}${p ? ` '${String(p)}'` : ''}`) as NodeJS.ErrnoException;
  e.code = code;
  e.errno = code === 'ENOSPC' ? -28 : -30;
  e.syscall = syscall;
  if (p !== undefined) e.path = String(p);
  throw e;
}

const fullFds = new Set<number>();
const real = {
  openSync: fs.openSync,
  closeSync: fs.closeSync,
  writeSync: fs.writeSync,
  writeFileSync: fs.writeFileSync,
  mkdirSync: fs.mkdirSync,
};
const writing = (flags: unknown) => typeof flags === 'string' && /[wa+]/.test(flags);

fs.openSync = ((p: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode) => {
  if (under(readOnly, p) && writing(flags)) fail('EROFS', 'open', p);
  const fd = real.openSync(p, flags ?? 'r', mode);
  if (under(full, p) && writing(flags)) fullFds.add(fd);
  return fd;
}) as typeof fs.openSync;
fs.closeSync = ((fd: number) => {
  fullFds.delete(fd);
  real.closeSync(fd);
}) as typeof fs.closeSync;
fs.writeSync = ((fd: number, ...rest: unknown[]) => {
  if (fullFds.has(fd) && (rest[0] as { length: number }).length >= fullMin) fail('ENOSPC', 'write');
  return (real.writeSync as (...a: unknown[]) => number)(fd, ...rest);
}) as typeof fs.writeSync;
fs.writeFileSync = ((p: fs.PathOrFileDescriptor, data: unknown, o?: fs.WriteFileOptions) => {
  if (typeof p !== 'number' && under(readOnly, p)) fail('EROFS', 'open', p);
  if (typeof p !== 'number' && under(full, p) && (data as { length: number }).length >= fullMin)
    fail('ENOSPC', 'write');
  if (typeof p === 'number' && fullFds.has(p) && (data as { length: number }).length >= fullMin)
    fail('ENOSPC', 'write');
  return (real.writeFileSync as (...a: unknown[]) => void)(p, data, o);
}) as typeof fs.writeFileSync;
fs.mkdirSync = ((p: fs.PathLike, o?: fs.MakeDirectoryOptions) => {
  if (under(readOnly, p) && !fs.existsSync(p)) fail('EROFS', 'mkdir', p);
  return real.mkdirSync(p, o);
}) as typeof fs.mkdirSync;
syncBuiltinESMExports();
