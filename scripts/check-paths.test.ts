/**
 * The machine-path check: it fails on a path planted in a tree and passes on a clean one, and it leaves
 * alone what works on every machine (relative paths, URLs, system paths, a temporary folder in code).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { checkTree, machinePaths } from './check-paths.js';

// Built from parts, so this file does not itself hold the paths it plants.
const workspace = ['', 'work', 'shared', 'data', 'glue'].join('/');
const home = ['', 'home', 'alice', 'minnow', 'runs', 'x'].join('/');
const temp = ['', 'tmp', 'aug'].join('/');

const made: string[] = [];
after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A git repository holding `files` (path -> text), added to the index; `ignored` paths are git-ignored. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'minnow-paths-'));
  made.push(dir);
  execFileSync('git', ['init', '-q'], { cwd: dir });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  execFileSync('git', ['add', '-A'], { cwd: dir });
  return dir;
}

const clean = {
  'README.md':
    'Data lives in `../shared/data/glue`; see https://example.org/work/notes and ~/.cache/minnow.\n',
  'results/x.json': '{ "dir": "runs/curve/uno", "file": "$SHARED/data/glue/SST-2/dev.tsv" }\n',
  'src/a.ts':
    "const t = mkdtempSync(join(tmpdir(), 'x'));\nconst z = '/dev/zero';\nconst p = '/proc/self/status';\n",
  'scripts/run.sh': `echo hi > ${temp}.log\n`,
};

describe('machinePaths', () => {
  test('a workspace or home folder is flagged in code and docs alike', () => {
    assert.deepEqual(machinePaths('src/x.test.ts', `const shared = '${workspace}';`), [
      { file: 'src/x.test.ts', line: 1, path: workspace },
    ]);
    assert.deepEqual(
      machinePaths('README.md', `one\n\`scripts/ab-bench.sh ${home} ${workspace} 3\``).map((f) => f.path),
      [home, workspace],
    );
    assert.equal(machinePaths('notes.txt', 'C:\\Users\\bob\\minnow').length, 1);
    assert.equal(machinePaths('a.md', `"${['', 'root', 'x'].join('/')}"`).length, 1);
  });

  test('a temporary folder is flagged in docs and records, not in code', () => {
    assert.deepEqual(
      machinePaths('README.md', `--out ${temp} --json`).map((f) => f.path),
      [temp],
    );
    assert.equal(machinePaths('results/infer.json', `{"out": "${temp}/x.json"}`).length, 1);
    assert.deepEqual(machinePaths('.ci/run', `> ${temp}.log 2>&1`), []);
    assert.deepEqual(machinePaths('scripts/ab-bench.sh', `--out ${temp}.json`), []);
  });

  test('relative paths, URLs, placeholders and system paths are not flagged', () => {
    for (const [file, text] of Object.entries(clean)) assert.deepEqual(machinePaths(file, text), [], file);
    assert.deepEqual(machinePaths('a.md', `file at $SHARED${workspace} or https://host${home}`), []);
    assert.deepEqual(machinePaths('a.md', 'read `/dev/zero`, `/usr/bin/env` and `/etc/hosts`'), []);
  });
});

describe('checkTree', () => {
  test('a clean tree passes', () => {
    assert.deepEqual(checkTree(tree(clean)), []);
  });

  test('a path planted in a tracked doc, record or test fails, naming file and line', () => {
    const dir = tree({
      ...clean,
      'results/infer.md': `872 sentences of\n${workspace}/SST-2/dev.tsv, tokenization included\n`,
      'src/data/glue.test.ts': `// real files\nconst shared = '${workspace}';\n`,
    });
    assert.deepEqual(checkTree(dir), [
      { file: 'results/infer.md', line: 2, path: `${workspace}/SST-2/dev.tsv` },
      { file: 'src/data/glue.test.ts', line: 2, path: workspace },
    ]);
  });

  test('untracked files count unless git ignores them; binary files are skipped', () => {
    const dir = tree(clean);
    writeFileSync(join(dir, '.gitignore'), 'runs/\n');
    mkdirSync(join(dir, 'runs'));
    writeFileSync(join(dir, 'runs', 'log.md'), temp);
    writeFileSync(join(dir, 'new.md'), `see ${temp}\n`);
    writeFileSync(join(dir, 'weights.bin'), Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(workspace)]));
    assert.deepEqual(
      checkTree(dir).map((f) => f.file),
      ['new.md'],
    );
  });

  test('the command exits 1 naming FILE:LINE on a planted path, 0 on a clean tree', () => {
    const script = join(import.meta.dirname, 'check-paths.ts');
    const run = (root: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', script, '--root', root], { encoding: 'utf8' });
    const ok = run(tree(clean));
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /no machine-specific paths/);
    const bad = run(tree({ ...clean, 'docs/x.md': `a\nb ${home}\n` }));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, new RegExp(`^docs/x\\.md:2: ${home} is one machine's path\n`));
    assert.match(bad.stderr, /1 machine-specific path\(s\).*rule: scripts\/check-paths\.ts/);
  });
});
