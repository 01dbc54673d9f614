/** Classifier.load on a local folder in Node (path or file:// URL), and the page's file:// error. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { UserError } from '../util/errors.js';
import { DEFAULT_EXPORT, exportModel } from './export-folder.js';
import { fileReader } from './file-source.js';
import { Classifier, type OrtModule } from './runtime.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-file-source-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const folder = join(tmp, 'sentiment');
before(async () => {
  await exportModel('models/sst2-sentiment', folder, { ...DEFAULT_EXPORT, quantize: 'none', threads: 1 });
});
const o = { ort: ort as unknown as OrtModule, threads: 1 };
const TEXT = 'a gorgeous , witty , seductive movie .';

test('Node: Classifier.load takes a folder path (absolute or relative) and a file:// URL', async () => {
  const scores: number[] = [];
  for (const source of [folder, relative('.', folder), pathToFileURL(folder).href]) {
    const clf = await Classifier.load(source, o);
    const [r] = await clf.classify([TEXT]);
    assert.equal(r.label, 'positive');
    scores.push(r.score);
    await clf.release();
  }
  assert.equal(new Set(scores).size, 1);
});

test('Node: a folder with no config.json, or none at all, is one clear error', async () => {
  await assert.rejects(Classifier.load(join(tmp, 'nothing-here'), o), (e: Error) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /nothing-here: no config\.json/);
    return true;
  });
});

test('a page: file:// cannot be fetched, and the error says how to serve the folder', () => {
  assert.throws(
    () => fileReader('file:///srv/models/sentiment/', false),
    (e: Error) =>
      e instanceof UserError && /cannot fetch file:\/\/ URLs; serve the folder over http/.test(e.message),
  );
  // In a page a bare path is a URL relative to the page: fetched, not read from disk.
  assert.equal(typeof fileReader('./sentiment/', false), 'function');
});
