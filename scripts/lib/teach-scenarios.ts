/**
 * The teach scenarios of scripts/teach-forgetting.ts and scripts/teach-chromium.ts: groups of SST-2 train
 * sentences (never dev) that a model gets wrong, to be taught their gold labels.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeAll } from '../../src/data/batch.js';
import type { Example } from '../../src/data/tabular.js';
import { readTask } from '../../src/data/task.js';
import { predictLogits } from '../../src/infer/predict.js';
import type { Model } from '../../src/model/model.js';
import { Rng } from '../../src/util/rng.js';

/** The model folder's anchors.txt, one text per line (none when it has no such file). */
export function readAnchors(modelDir: string): string[] {
  const file = join(modelDir, 'anchors.txt');
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
    : [];
}

/** The model's labels (argmax of two logits, fp32) for `xs`. */
export async function predictedLabels(m: Model, xs: Example[], threads: number): Promise<number[]> {
  const items = encodeAll(m.tokenizer, xs, 128);
  return (await predictLogits(m, items, 2, 64, threads)).map((z) => (z[1] > z[0] ? 1 : 0));
}

export interface TeachScenarios {
  /** `count` groups of `size` sentences the model gets wrong, with their gold labels. */
  scenarios: Example[][];
  /** Wrong sentences in the sample, and the sample's size. */
  wrong: number;
  sampled: number;
}

/**
 * Candidates: SST-2 train sentences of 6+ words that are not anchors, shuffled with `seed`, the first
 * 4,000; the ones `model` gets wrong, cut in order into `count` scenarios of `size`.
 */
export async function teachScenarios(o: {
  /** The SST-2 folder (train.tsv). */
  sst2: string;
  model: Model;
  anchors: string[];
  seed: number;
  count: number;
  size: number;
  threads: number;
}): Promise<TeachScenarios> {
  const anchorSet = new Set(o.anchors);
  const train = new Rng(o.seed)
    .shuffle(readTask({ task: 'sst2', data: o.sst2 }, 'train').examples)
    .filter((e) => e.text.split(' ').length >= 6 && !anchorSet.has(e.text))
    .slice(0, 4000);
  const predicted = await predictedLabels(o.model, train, o.threads);
  const wrong = train.filter((e, i) => predicted[i] !== e.label);
  if (wrong.length < o.count * o.size) throw new Error(`only ${wrong.length} wrong sentences in the sample`);
  return {
    scenarios: Array.from({ length: o.count }, (_, s) => wrong.slice(s * o.size, (s + 1) * o.size)),
    wrong: wrong.length,
    sampled: train.length,
  };
}
