/** The zip writer, read back by an independent reader written from the format (and by unzip, where installed). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32, zip } from './zip.js';
import { readZip } from './zip.testkit.js';

test('crc32 of known strings', () => {
  const enc = new TextEncoder();
  assert.equal(crc32(enc.encode('')), 0);
  assert.equal(crc32(enc.encode('123456789')), 0xcbf43926); // the standard check value
  assert.equal(crc32(enc.encode('The quick brown fox jumps over the lazy dog')), 0x414fa339);
});

test('zip round-trips text, binary and UTF-8 names; unzip agrees', () => {
  const bin = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 255);
  const files = {
    'config.json': '{"a": 1}\n',
    'model.safetensors': bin,
    'dir/vocäb.txt': 'x\ny\n',
    empty: '',
  };
  const bytes = zip(files);
  const back = readZip(bytes);
  assert.deepEqual([...back.keys()], Object.keys(files));
  assert.deepEqual(back.get('model.safetensors'), bin);
  assert.equal(new TextDecoder().decode(back.get('dir/vocäb.txt')), 'x\ny\n');
  const probe = spawnSync('unzip', ['-v'], { encoding: 'utf8' });
  if (probe.status !== 0) return; // no unzip here: the reader above is the check
  const dir = mkdtempSync(join(tmpdir(), 'minnow-zip-'));
  try {
    writeFileSync(join(dir, 'a.zip'), bytes);
    const r = spawnSync('unzip', ['-q', 'a.zip', '-d', 'out'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'out', 'model.safetensors'))), bin);
    assert.equal(readFileSync(join(dir, 'out', 'config.json'), 'utf8'), '{"a": 1}\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('zip refuses names that would escape the folder', () => {
  assert.throws(() => zip({ '../x': 'a' }), /bad entry name/);
  assert.throws(() => zip({ '/etc/x': 'a' }), /bad entry name/);
});
