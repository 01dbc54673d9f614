/**
 * Tests for writeFileAtomic and ensureDir: replacement, no leftover temp files, failure safety; temp
 * names carry the writer's PID, and removeStaleTemporaries removes those of dead writers only.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  AtomicStream,
  atomicTempOwner,
  ensureDir,
  processAlive,
  removeStaleFolderTemporaries,
  removeStaleTemporaries,
  writeFileAtomic,
} from './atomic.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minnow-atomic-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  test('creates a new file from a string', () => {
    const f = path.join(dir, 'a.txt');
    writeFileAtomic(f, 'héllo');
    assert.equal(fs.readFileSync(f, 'utf8'), 'héllo');
    assert.deepEqual(fs.readdirSync(dir), ['a.txt']);
  });

  test('replaces an existing file with bytes and leaves no temp files', () => {
    const f = path.join(dir, 'b.bin');
    fs.writeFileSync(f, 'old contents that are longer than the new ones');
    writeFileAtomic(f, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...fs.readFileSync(f)], [1, 2, 3]);
    writeFileAtomic(f, new Uint8Array(0));
    assert.equal(fs.readFileSync(f).byteLength, 0);
    assert.deepEqual(fs.readdirSync(dir), ['b.bin']);
  });

  test('writes a subarray view exactly, not its whole buffer', () => {
    const f = path.join(dir, 'c.bin');
    const big = new Uint8Array([9, 8, 7, 6, 5]);
    writeFileAtomic(f, big.subarray(1, 3));
    assert.deepEqual([...fs.readFileSync(f)], [8, 7]);
  });

  test('keeps the permission bits of the file it replaces', { skip: process.platform === 'win32' }, () => {
    const f = path.join(dir, 'mode.txt');
    fs.writeFileSync(f, 'x');
    fs.chmodSync(f, 0o600);
    writeFileAtomic(f, 'y');
    assert.equal(fs.statSync(f).mode & 0o777, 0o600);
  });

  test('fails in a missing directory without creating anything', () => {
    const f = path.join(dir, 'missing', 'x.txt');
    assert.throws(() => writeFileAtomic(f, 'x'), { code: 'ENOENT' });
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test('a data argument that throws leaves the old file intact and removes the temp file', () => {
    const f = path.join(dir, 'keep.txt');
    fs.writeFileSync(f, 'precious');
    class Exploding extends Uint8Array {
      override get byteLength(): number {
        throw new Error('boom'); // fails after the temp file has been created
      }
    }
    assert.throws(() => writeFileAtomic(f, new Exploding(4)), /boom/);
    assert.equal(fs.readFileSync(f, 'utf8'), 'precious');
    assert.throws(() => writeFileAtomic(f, 42 as unknown as Uint8Array), TypeError);
    assert.equal(fs.readFileSync(f, 'utf8'), 'precious');
    assert.deepEqual(fs.readdirSync(dir), ['keep.txt']);
  });

  test('a failed rename (target is a non-empty directory) leaves the target and removes the temp file', () => {
    const target = path.join(dir, 'target');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'inner.txt'), 'inner');
    assert.throws(() => writeFileAtomic(target, 'x'));
    assert.ok(fs.statSync(target).isDirectory());
    assert.equal(fs.readFileSync(path.join(target, 'inner.txt'), 'utf8'), 'inner');
    assert.deepEqual(fs.readdirSync(dir), ['target']);
  });
});

describe('ensureDir', () => {
  test('creates nested directories and is idempotent', () => {
    const d = path.join(dir, 'x', 'y', 'z');
    ensureDir(d);
    ensureDir(d);
    assert.ok(fs.statSync(d).isDirectory());
  });
});

describe('AtomicStream', () => {
  test('the target keeps its old contents until commit, then has every piece; no temp file left', () => {
    const f = path.join(dir, 'big.tsv');
    fs.writeFileSync(f, 'old\n');
    const s = new AtomicStream(f);
    const line = `${'x'.repeat(1000)}\n`;
    for (let i = 0; i < 2000; i++) s.write(line); // > 1 MiB: flushed in pieces
    assert.equal(fs.readFileSync(f, 'utf8'), 'old\n');
    s.commit();
    assert.equal(fs.readFileSync(f, 'utf8'), line.repeat(2000));
    assert.deepEqual(fs.readdirSync(dir), ['big.tsv']);
  });

  test('abort removes the temp file and leaves the target untouched', () => {
    const f = path.join(dir, 'c.tsv');
    fs.writeFileSync(f, 'keep me\n');
    const s = new AtomicStream(f);
    s.write('partial');
    s.abort();
    assert.equal(fs.readFileSync(f, 'utf8'), 'keep me\n');
    assert.deepEqual(fs.readdirSync(dir), ['c.tsv']);
  });
});

describe('stale temporaries', () => {
  /** The PID of a process that has exited (spawned, waited for and reaped). */
  const deadPid = () => spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' }).pid!;

  test('an in-progress atomic write is named <file>.<pid>.<hex>.tmp, and its owner is this process', () => {
    const f = path.join(dir, 'big.tsv');
    const s = new AtomicStream(f);
    const [tmp] = fs.readdirSync(dir);
    assert.match(tmp, new RegExp(`^big\\.tsv\\.${process.pid}\\.[0-9a-f]{12}\\.tmp$`));
    assert.equal(atomicTempOwner(tmp), process.pid);
    s.abort();
    assert.equal(atomicTempOwner('big.tsv'), undefined);
    assert.equal(atomicTempOwner('notes.tmp'), undefined);
  });

  test('processAlive: ESRCH is dead, this process and EPERM are alive, nonsense counts as alive', () => {
    assert.equal(processAlive(process.pid), true);
    assert.equal(processAlive(process.ppid), true);
    assert.equal(processAlive(1), true); // EPERM unless root; alive either way
    assert.equal(processAlive(deadPid()), false);
    assert.equal(processAlive(0), true);
    assert.equal(processAlive(-1), true);
  });

  test("removeStaleTemporaries removes dead writers' temps only and counts their bytes", () => {
    const dead = deadPid();
    fs.writeFileSync(path.join(dir, 'model.safetensors'), 'complete');
    fs.writeFileSync(path.join(dir, `model.safetensors.${dead}.0123456789ab.tmp`), new Uint8Array(123));
    fs.writeFileSync(path.join(dir, `latest.${dead}.abcdefabcdef.tmp`), 'st');
    fs.writeFileSync(path.join(dir, `latest.${process.pid}.abcdefabcdef.tmp`), 'live');
    fs.writeFileSync(path.join(dir, 'other.tmp'), 'no pid');
    const r = removeStaleTemporaries(dir);
    assert.equal(r.bytes, 125);
    assert.deepEqual(r.removed.map((p) => path.basename(p)).sort(), [
      `latest.${dead}.abcdefabcdef.tmp`,
      `model.safetensors.${dead}.0123456789ab.tmp`,
    ]);
    assert.deepEqual(fs.readdirSync(dir).sort(), [
      `latest.${process.pid}.abcdefabcdef.tmp`,
      'model.safetensors',
      'other.tmp',
    ]);
    assert.deepEqual(removeStaleTemporaries(path.join(dir, 'missing')), { removed: [], bytes: 0 });
  });
});

describe('removeStaleFolderTemporaries', () => {
  test("removes a dead writer's OUT.tmp-PID, puts back its OUT.old-PID when OUT is missing, keeps live ones", () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const out = path.join(dir, 'exp');
    fs.mkdirSync(path.join(dir, `exp.tmp-${dead}`));
    fs.mkdirSync(path.join(dir, `exp.old-${dead}`));
    fs.writeFileSync(path.join(dir, `exp.old-${dead}`, 'config.json'), '{}');
    fs.mkdirSync(path.join(dir, `exp.tmp-${process.pid}`));
    fs.mkdirSync(path.join(dir, `expx.tmp-${dead}`)); // another folder's
    const c = removeStaleFolderTemporaries(out);
    assert.deepEqual(c.removed, [path.join(dir, `exp.tmp-${dead}`)]);
    assert.deepEqual(
      fs.readdirSync(dir).sort(),
      ['exp', `exp.tmp-${process.pid}`, `expx.tmp-${dead}`].sort(),
    );
    assert.equal(fs.readFileSync(path.join(out, 'config.json'), 'utf8'), '{}');
  });
});
