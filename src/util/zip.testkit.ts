/** Test helper: reads a stored-only zip (as zip.ts writes) from its central directory, checking every CRC. */
import assert from 'node:assert/strict';
import { crc32 } from './zip.js';

export /** Entries of a stored-only zip, from its central directory. */
function readZip(b: Uint8Array): Map<string, Uint8Array> {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const end = b.length - 22;
  assert.equal(v.getUint32(end, true), 0x06054b50, 'end of central directory record');
  const count = v.getUint16(end + 10, true);
  let p = v.getUint32(end + 16, true);
  const out = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    assert.equal(v.getUint32(p, true), 0x02014b50, 'central directory entry');
    const crc = v.getUint32(p + 16, true);
    const size = v.getUint32(p + 20, true);
    const nameLen = v.getUint16(p + 28, true);
    const local = v.getUint32(p + 42, true);
    const name = new TextDecoder().decode(b.subarray(p + 46, p + 46 + nameLen));
    assert.equal(v.getUint32(local, true), 0x04034b50, 'local header');
    const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    const data = b.subarray(start, start + size);
    assert.equal(crc32(data), crc, `${name}: CRC`);
    out.set(name, data);
    p += 46 + nameLen;
  }
  return out;
}
