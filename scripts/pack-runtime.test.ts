/**
 * The runtime package installs alone: `npm install` of the packed tarball in an empty project adds one
 * package and no warning (no dependencies, no engine constraint Node 20 fails), and the README's Node
 * lines classify a local export folder with onnxruntime-node (the caller's choice, linked here).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_EXPORT, exportModel } from '../src/infer/export-folder.js';
import { folderBytes, packRuntime } from './pack-runtime.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-runtime-package-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('minnow-runtime: installs alone, and ten lines classify a local export folder', async () => {
  const packed = await packRuntime(join(tmp, 'out'));
  const app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
  const npm = spawnSync('npm', ['install', packed.tarball, '--offline', '--no-audit', '--no-fund'], {
    cwd: app,
    encoding: 'utf8',
  });
  assert.equal(npm.status, 0, npm.stderr);
  assert.doesNotMatch(npm.stderr, /WARN|EBADENGINE/, npm.stderr);
  assert.match(npm.stdout, /added 1 package/);
  const installed = folderBytes(join(app, 'node_modules'));
  assert.ok(installed < 200_000, `node_modules holds ${installed} bytes`);
  // The caller's onnxruntime: the repository's copy, linked instead of downloaded.
  symlinkSync(resolve('node_modules', 'onnxruntime-node'), join(app, 'node_modules', 'onnxruntime-node'));
  await exportModel('models/sst2-sentiment', join(app, 'sentiment'), { ...DEFAULT_EXPORT, threads: 1 });
  writeFileSync(
    join(app, 'classify.js'),
    [
      "import * as ort from 'onnxruntime-node';",
      "import { Classifier } from 'minnow-runtime';",
      '',
      "const clf = await Classifier.load('./sentiment', { ort, quantized: true });",
      "const [r] = await clf.classify(['a gorgeous, witty, seductive movie.']);",
      'console.log(r.label, r.score.toFixed(3));',
      '',
    ].join('\n'),
  );
  const run = spawnSync(process.execPath, ['classify.js'], { cwd: app, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^positive 0\.9\d\d\n$/);
});
