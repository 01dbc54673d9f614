/**
 * A minimal zip writer (stored entries, no compression): how a page hands the user a folder of files in
 * one download. Readable by every unzip tool; safetensors and int8 weights barely compress anyway.
 * Browser-safe. Format: PKWARE APPNOTE 6.3 (local headers, central directory, end record; no zip64, so
 * under 4 GB in all).
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3), as zip, gzip and PNG use it. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive of `files` (path -> contents; '/'-separated paths), entries in the given order. */
export function zip(files: Record<string, string | Uint8Array>): Uint8Array {
  const utf8 = new TextEncoder();
  const entries = Object.entries(files).map(([path, data]) => {
    if (!path || path.startsWith('/') || path.split('/').includes('..'))
      throw new Error(`zip: bad entry name "${path}"`);
    const bytes = typeof data === 'string' ? utf8.encode(data) : data;
    return { name: utf8.encode(path), bytes, crc: crc32(bytes), offset: 0 };
  });
  const size = entries.reduce((s, e) => s + 30 + e.name.length + e.bytes.length + 46 + e.name.length, 0) + 22;
  if (size >= 2 ** 32 || entries.length >= 0xffff) throw new Error('zip: archive too large (no zip64)');
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let p = 0;
  const u16 = (x: number) => {
    v.setUint16(p, x, true);
    p += 2;
  };
  const u32 = (x: number) => {
    v.setUint32(p, x, true);
    p += 4;
  };
  const put = (b: Uint8Array) => {
    out.set(b, p);
    p += b.length;
  };
  // Version 2.0, flag bit 11 (names are UTF-8), method 0 (stored), DOS time/date 1980-01-01 00:00.
  const common = (e: (typeof entries)[number]) => {
    u16(20);
    u16(0x0800);
    u16(0);
    u16(0);
    u16(0x21);
    u32(e.crc);
    u32(e.bytes.length);
    u32(e.bytes.length);
    u16(e.name.length);
    u16(0); // extra field length
  };
  for (const e of entries) {
    e.offset = p;
    u32(0x04034b50);
    common(e);
    put(e.name);
    put(e.bytes);
  }
  const dir = p;
  for (const e of entries) {
    u32(0x02014b50);
    u16(20); // made by
    common(e);
    u16(0); // comment length
    u16(0); // disk number
    u16(0); // internal attributes
    u32(0); // external attributes
    u32(e.offset);
    put(e.name);
  }
  const dirSize = p - dir;
  u32(0x06054b50);
  u16(0);
  u16(0);
  u16(entries.length);
  u16(entries.length);
  u32(dirSize);
  u32(dir);
  u16(0);
  return out;
}
