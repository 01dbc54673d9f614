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
