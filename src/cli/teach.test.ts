/**
 * `minnow teach` as a user runs it (the built CLI): --help, a taught models/sst2-sentiment that predict
 * loads with the taught labels and its anchors beside it (which its export ships), and bad input (an unknown label, a missing file,
 * a diverging learning rate) as one line, exit 2, nothing written.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { failsWith, minnow, ok } from './cli.testkit.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-teach-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const MODEL = join('models', 'sst2-sentiment');
const TAUGHT = [
  ['negative', 'the app crashes constantly'],
  ['positive', 'not bad at all'],
  ['positive', 'the film is not without its charms'],
];
const examples = join(tmp, 'examples.txt');
writeFileSync(examples, `${TAUGHT.map(([l, t]) => `${l} | ${t}`).join('\n')}\n\n`);

test('minnow teach --help lists its options; minnow --help lists teach', () => {
  const help = ok(minnow('teach', '--help')).out;
  for (const o of [
    '--model DIR',
    '--examples FILE',
    '--out DIR',
    '--anchors FILE',
    '--no-anchors',
    '--lr X',
    '--part P',
    '--backend B',
  ])
    assert.ok(help.includes(o), o);
  assert.match(ok(minnow('--help')).out, /\n {2}teach {8}teach a fine-tuned model a few labelled sentences/);
});

test('teaches the shipped model: predict gives the taught labels; the anchors and the guard report come along', () => {
  const out = join(tmp, 'taught');
  const r = ok(minnow('teach', '--model', MODEL, '--examples', examples, '--out', out, '--threads', '1'));
  assert.match(r.out, /guard: \d+ of 256 anchor texts changed label/);
  assert.match(
    r.out,
    /every taught example is right after \d+ steps of lr 0\.001; trained on 3 taught examples/,
  );
  assert.equal(
    readFileSync(join(out, 'anchors.txt'), 'utf8'),
    readFileSync(join(MODEL, 'anchors.txt'), 'utf8'),
  );
  const input = join(tmp, 'input.txt');
  writeFileSync(input, `${TAUGHT.map(([, t]) => t).join('\n')}\n`);
  const labels = ok(minnow('predict', '--model', out, '--input', input, '--threads', '1'))
    .out.trim()
    .split('\n')
    .map((l) => l.split('\t')[0]);
  assert.deepEqual(
    labels,
    TAUGHT.map(([l]) => l),
  );
  // Its export ships the anchors too, for the page's teach panel.
  const exported = join(tmp, 'taught-export');
  ok(minnow('export', '--model', out, '--out', exported, '--threads', '1'));
  assert.equal(
    readFileSync(join(exported, 'anchors.txt'), 'utf8'),
    readFileSync(join(out, 'anchors.txt'), 'utf8'),
  );
});

test('bad input is one line, exit 2, and nothing written', () => {
  const out = join(tmp, 'never');
  const bad = join(tmp, 'bad.txt');
  writeFileSync(bad, 'positive | fine\nneutral | so-so\n');
  failsWith(
    minnow('teach', '--model', MODEL, '--examples', bad, '--out', out),
    /^minnow: .*bad\.txt: line 2: unknown label "neutral" \(one of negative, positive\)$/,
  );
  writeFileSync(bad, 'positive | fine\na sentence without a label\n');
  failsWith(
    minnow('teach', '--model', MODEL, '--examples', bad, '--out', out),
    /bad\.txt: line 2: write "label \| sentence" \(labels: negative, positive\)$/,
  );
  failsWith(
    minnow('teach', '--model', MODEL, '--examples', join(tmp, 'missing.txt'), '--out', out),
    /^minnow: --examples .*missing\.txt: cannot read \(ENOENT\)$/,
  );
  failsWith(
    minnow(
      'teach',
      '--model',
      MODEL,
      '--examples',
      examples,
      '--out',
      out,
      '--anchors',
      'a.txt',
      '--no-anchors',
    ),
    /--anchors and --no-anchors: give one of them/,
  );
  failsWith(
    minnow('teach', '--model', MODEL, '--examples', examples, '--out', out, '--lr', '10', '--threads', '1'),
    /^minnow: teaching diverged \(.+\): rolled back, the model is unchanged; lower the learning rate \(10\); nothing written$/,
  );
  assert.equal(existsSync(out), false);
});
