/** The teach panel's example lines (`label | sentence`): classes by name or index, one clear error per bad line. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { preset } from '../model/config.js';
import { createModel } from '../model/io.js';
import { assetPath } from '../util/assets.js';
import { Rng } from '../util/rng.js';
import { parseExamples } from './teach-panel.js';

const m = createModel(preset('uno-eelbert'), assetPath('bert-base-uncased-vocab.txt'), new Rng(1), {
  numLabels: 2,
});
m.config.num_labels = 2;
m.config.id2label = { 0: 'negative', 1: 'positive' };

test('label | sentence lines: names in any case or indices; blank lines skipped; | inside the sentence kept', () => {
  assert.deepEqual(parseExamples('Positive | a fine film\n\n  0 | dull | and long  \nNEGATIVE|meh', m), [
    { text: 'a fine film', label: 1 },
    { text: 'dull | and long', label: 0 },
    { text: 'meh', label: 0 },
  ]);
});

test('bad lines name the line and what was expected', () => {
  const bad: [string, RegExp][] = [
    ['', /no examples/],
    ['positive a fine film', /line 1: write "label \| sentence" \(labels: negative, positive\)/],
    ['positive | good\n | no label', /line 2: write "label \| sentence"/],
    ['positive |   ', /line 1: write "label \| sentence"/],
    ['neutral | so-so', /line 1: unknown label "neutral" \(one of negative, positive\)/],
    ['2 | three classes?', /line 1: unknown label "2"/],
  ];
  for (const [text, re] of bad) assert.throws(() => parseExamples(text, m), re, JSON.stringify(text));
});
