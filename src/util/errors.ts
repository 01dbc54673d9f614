/**
 * An error the user can act on: bad input, a missing file, a wrong flag. The CLI prints its message
 * on one line, without a stack trace, and exits with status 2. Messages name the file, line and field.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/** Format a location as `file:line` (line is 1-based) or `file` alone. */
export function where(file: string, line?: number): string {
  return line === undefined ? file : `${file}:${line}`;
}

/** What a file-system error code means for the user, and what to do about it. */
const FS_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device; free some space or write elsewhere',
  EDQUOT: 'disk quota exceeded; free some space or write elsewhere',
  EROFS: 'read-only file system; write elsewhere',
  EACCES: 'permission denied; choose a path you can write (or read)',
  EPERM: 'operation not permitted; choose a path you can write (or read)',
  EEXIST: 'a file is in the way of a directory; remove it or choose another path',
  ENOTDIR: 'a part of the path is a file, not a directory; choose another path',
  EISDIR: 'is a directory; give a file',
  ENOENT: 'no such file or directory (or it could not be created there); check the path',
  ENAMETOOLONG: 'the name is too long; choose a shorter path',
  ELOOP: 'too many symbolic links; check the path',
  EMFILE: 'too many open files; raise the limit (ulimit -n) or close other programs',
  EFBIG: 'file too large for this file system; write elsewhere',
  EIO: 'input/output error on the device; check the disk',
};

/**
 * A file-system error (ENOSPC, EROFS, EACCES, EEXIST, EISDIR, ...) as a UserError naming the path and
 * what to do; undefined for anything else. `path` names the file when the error itself does not (a
 * write on an open descriptor has none). The CLI maps every such error to one line and exit status 2.
 */
export function fsUserError(e: unknown, path?: string): UserError | undefined {
  if (!(e instanceof Error)) return undefined;
  const err = e as NodeJS.ErrnoException;
  const what = err.code === undefined ? undefined : FS_ERRORS[err.code];
  if (what === undefined || (err.syscall === undefined && err.path === undefined && path === undefined))
    return undefined;
  const at = err.path ?? path;
  const call = err.syscall ? `, ${err.syscall}` : '';
  return new UserError(`${at ?? 'a file'}: ${what} (${err.code}${call})`);
}

/** `EROFS` as `read-only file system; write elsewhere (EROFS)`; an unknown code as itself. */
export function fsReason(code: string): string {
  const what = FS_ERRORS[code];
  return what === undefined ? code : `${what} (${code})`;
}

/** Record the file an error was about when the error does not say (writes on a descriptor). */
export function withPath<E>(e: E, path: string): E {
  const err = e as NodeJS.ErrnoException;
  if (err instanceof Error && err.code !== undefined && err.path === undefined) err.path = path;
  return e;
}
