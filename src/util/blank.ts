/**
 * Text with nothing to read: empty, whitespace, control characters (NUL included), format characters
 * (zero-width spaces and joiners, a stray byte-order mark) and separators only. Every reader of texts
 * (data files, predict's lines, the server's inputs) refuses it the same way as an empty line.
 * Browser-safe.
 */
const BLANK = /^[\p{White_Space}\p{Cc}\p{Cf}\p{Z}]*$/u;

export function isBlank(text: string): boolean {
  return BLANK.test(text);
}
