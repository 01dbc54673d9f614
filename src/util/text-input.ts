/**
 * Reading a text input (a data file, predict's --input or stdin) with bounds: at most `maxBytes` in all
 * and `maxLineBytes` in one line, checked while reading, so `--input /dev/zero` or a binary file ends at
 * once with one line naming it instead of filling memory. UTF-16 with a byte-order mark is decoded as
 * such (Windows editors save it so); anything else is read as UTF-8.
 */
import * as fs from 'node:fs';
import { UserError } from './errors.js';

export interface InputLimits {
  /** Most bytes in the whole input: 512 MiB, about Node's longest string. */
  maxBytes: number;
  /** Most bytes in one line: 1 MiB, far beyond any sentence or table row. */
  maxLineBytes: number;
}

export const INPUT_LIMITS: Readonly<InputLimits> = Object.freeze({
  maxBytes: 512 * 1024 * 1024,
  maxLineBytes: 1024 * 1024,
});

const mib = (n: number) => `${(n / (1024 * 1024)).toLocaleString('en-US')} MiB`;

/**
 * The whole text of `source` (a path, or 0 for stdin); `name` is how messages call it (`--input FILE`,
 * `stdin`, a data file's path). Missing, unreadable or too large: one UserError naming it.
 */
export function readTextInput(source: string | 0, name: string, limits: InputLimits = INPUT_LIMITS): string {
  let fd: number;
  try {
    fd = source === 0 ? 0 : fs.openSync(source, 'r');
  } catch (e) {
    throw new UserError(
      `${name}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const chunks: Buffer[] = [];
  let total = 0;
  let line = 1;
  let lineBytes = 0;
  try {
    const buf = Buffer.allocUnsafe(1 << 16);
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // a non-blocking pipe: wait
          continue;
        }
        if (code === 'EOF') break;
        throw new UserError(`${name}: cannot read (${code ?? (e as Error).message})`);
      }
      if (n === 0) break;
      total += n;
      if (total > limits.maxBytes)
        throw new UserError(
          `${name}: larger than ${mib(limits.maxBytes)}; split it into smaller files (or give --max-examples where there is one)`,
        );
      const got = buf.subarray(0, n);
      for (let start = 0; start < n;) {
        const nl = got.indexOf(0x0a, start);
        const end = nl < 0 ? n : nl;
        lineBytes += end - start;
        if (lineBytes > limits.maxLineBytes)
          throw new UserError(
            `${name}:${line}: a line longer than ${mib(limits.maxLineBytes)}; is it a text file? (one example per line)`,
          );
        if (nl < 0) break;
        line++;
        lineBytes = 0;
        start = nl + 1;
      }
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
  } finally {
    if (source !== 0) fs.closeSync(fd);
  }
  return decode(Buffer.concat(chunks, total));
}

/** UTF-16 (little or big endian) when the bytes start with its byte-order mark, else UTF-8. */
export function decode(bytes: Buffer): string {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe)
    return bytes.subarray(2).toString('utf16le');
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    const le = Buffer.from(bytes.subarray(2, 2 + ((bytes.length - 2) & ~1)));
    le.swap16();
    return le.toString('utf16le');
  }
  return bytes.toString('utf8');
}
