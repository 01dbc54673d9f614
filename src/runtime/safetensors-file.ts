/** safetensors files on disk: safetensors.ts's codec plus atomic writes and errors that name the file. */
import * as fs from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError, where } from '../util/errors.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafeTensor,
  type SafetensorsFile,
} from './safetensors.js';

/** Atomically write a safetensors file (see encodeSafetensors); errors name `path`. */
export function writeSafetensors(
  path: string,
  tensors: Map<string, SafeTensor> | Record<string, SafeTensor>,
  metadata?: Record<string, string>,
): void {
  let bytes: Uint8Array;
  try {
    bytes = encodeSafetensors(tensors, metadata);
  } catch (err) {
    if (err instanceof UserError) throw new UserError(`${where(path)}: ${err.message}`);
    throw err;
  }
  writeFileAtomic(path, bytes);
}

/** Read and validate a safetensors file; a missing or unreadable file is a UserError naming it. */
export function readSafetensors(path: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory, not a file' : e.message;
    throw new UserError(`${where(path)}: cannot read safetensors file: ${why}`);
  }
  return decodeSafetensors(bytes, path);
}
