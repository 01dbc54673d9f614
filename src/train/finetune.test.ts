/**
 * Fine-tuning: the recipe chosen by the model and the data when not given, the best epoch's weights saved
 * (early stopping after --patience epochs), and --resume: a checkpoint remembers the run that wrote it
 * (seed, data, batch shape, length, optimiser), a resume with other settings is refused in one line that
 * names them by their flags, and a killed run resumes to the same result.
 */
import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { encodeAll } from '../data/batch.js';
import { readTask } from '../data/task.js';
import { evaluateModel } from '../infer/evaluate.js';
import { smallPreset } from '../model/config.testkit.js';
import { createModel, loadModel, saveModel } from '../model/io.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { BEST_FILE, readBestRecord } from './best-epoch.js';
import { DEFAULT_FINETUNE, type FinetuneConfig, type FinetuneResult, finetune } from './finetune.js';
import { maxLengthFor } from './finetune-recipe.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-finetune-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const small = smallPreset('uno-eelbert');
const src = { task: 'sst2', data: join('test', 'fixtures', 'glue-mini') };

function config(out: string, over: Partial<FinetuneConfig> = {}): FinetuneConfig {
  return { ...DEFAULT_FINETUNE, out, epochs: 1, batchSize: 16, threads: 1, ...over };
}

describe('finetune --resume', () => {
  const model = join(tmp, 'model');
  saveModel(model, createModel(structuredClone(small), 'assets/bert-base-uncased-vocab.txt', new Rng(1)));

  test('refuses a checkpoint written with another seed, batch size and length, naming the flags, and changes nothing', async () => {
    const out = join(tmp, 'run');
    await finetune(model, src, undefined, config(out));
    const settings = readFileSync(join(out, 'finetune_config.json'));
    const weights = readFileSync(join(out, 'model.safetensors'));
    await assert.rejects(
      finetune(model, src, undefined, config(out, { resume: true, seed: 3, batchSize: 8, maxLength: 32 })),
      (e: Error) => {
        assert.ok(e instanceof UserError, e.stack);
        assert.match(e.message, /^finetune sst2: --resume: .*step-\d+ was written with other settings \(/);
        for (const s of [
          'updates (--epochs, --batch-size) 6 there, 12 now',
          '--seed 0 there, 3 now',
          '--batch-size 16 there, 8 now',
          '--max-length 16 there, 32 now', // 16: from glue-mini's short rows
        ])
          assert.ok(e.message.includes(s), `${s} in: ${e.message}`);
        return true;
      },
    );
    assert.ok(readFileSync(join(out, 'finetune_config.json')).equals(settings));
    assert.ok(readFileSync(join(out, 'model.safetensors')).equals(weights));
  });

  test('decay reaches the schedule: a cosine run is recorded as one, and resumed as linear is refused naming --decay', async () => {
    const out = join(tmp, 'cosine');
    await finetune(model, src, undefined, config(out, { decay: 'cosine', warmup: 0 }));
    await finetune(model, src, undefined, config(join(tmp, 'linear'), { warmup: 0 }));
    const weights = (dir: string) => readFileSync(join(dir, 'model.safetensors'));
    assert.ok(!weights(out).equals(weights(join(tmp, 'linear')))); // other rates, other weights
    await assert.rejects(
      finetune(model, src, undefined, config(out, { resume: true, warmup: 0 })),
      /other settings \(--decay "cosine" there, "linear" now\)/,
    );
  });

  test('refuses a checkpoint written on data since edited in place (same rows, other content)', async () => {
    const data = join(tmp, 'edited');
    mkdirSync(data);
    copyFileSync(join(src.data, 'dev.tsv'), join(data, 'dev.tsv'));
    const train = readFileSync(join(src.data, 'train.tsv'), 'utf8');
    writeFileSync(join(data, 'train.tsv'), train);
    const out = join(tmp, 'edited-run');
    await finetune(model, { ...src, data }, undefined, config(out));
    // One label flipped: the same file name and row count as before.
    const lines = train.split('\n');
    lines[1] = lines[1].replace(/\t([01])$/, (_, l: string) => `\t${1 - Number(l)}`);
    assert.notEqual(lines.join('\n'), train);
    writeFileSync(join(data, 'train.tsv'), lines.join('\n'));
    await assert.rejects(
      finetune(model, { ...src, data }, undefined, config(out, { resume: true })),
      (e: Error) => {
        assert.ok(e instanceof UserError, e.stack);
        assert.match(
          e.message,
          /training rows' content \(--data, --dev-fraction\) "[0-9a-f]{16}" there, "[0-9a-f]{16}" now/,
        );
        assert.ok(!e.message.includes('training rows (--data'), e.message); // the count is the same
        return true;
      },
    );
  });

  test('a deadline already passed: one update, evaluated, its weights kept, and the run stops', async () => {
    const out = join(tmp, 'late');
    const res = await finetune(model, src, undefined, config(out, { epochs: 3, deadline: Date.now() }));
    assert.equal(res.perEpoch.length, 1);
    assert.equal(res.perEpoch[0].update, 1);
    assert.equal(res.score, res.perEpoch[0].score);
    assert.ok(existsSync(join(out, 'model.safetensors')));
  });

  test('a run killed after epoch 1 resumes bit-exactly and reports every epoch; a finished one reports its scores', async () => {
    const two = { epochs: 2, checkpointEvery: 6 }; // 6 updates per epoch
    const whole = await finetune(model, src, undefined, config(join(tmp, 'whole'), two));
    assert.equal(whole.perEpoch.length, 2);
    const out = join(tmp, 'killed');
    await finetune(model, src, undefined, config(out, two));
    rmSync(join(out, 'checkpoints', 'step-000012'), { recursive: true });
    writeFileAtomic(join(out, 'checkpoints', 'latest'), 'step-000006\n');
    rmSync(join(out, 'model.safetensors'));
    // The kill cut the log mid-line: that line is skipped, and epoch 2's record past the checkpoint is replaced.
    appendFileSync(join(out, 'log.jsonl'), '{"event":"eval","update":12,"acc');
    const resumed = await finetune(model, src, undefined, config(out, { ...two, resume: true }));
    const weights = readFileSync(join(tmp, 'whole', 'model.safetensors'));
    assert.ok(readFileSync(join(out, 'model.safetensors')).equals(weights));
    // Epoch 1's scores come from the log the killed run wrote; epoch 2's from the replay.
    assert.deepEqual(resumed.perEpoch, whole.perEpoch);
    // Resumed once more, nothing is left to train, yet the result carries the final scores, not NaN.
    const again = await finetune(model, src, undefined, config(out, { ...two, resume: true }));
    assert.ok(readFileSync(join(out, 'model.safetensors')).equals(weights));
    assert.deepEqual(again.perEpoch, whole.perEpoch);
    assert.equal(again.score, whole.score);
    // Without the log, the final weights are evaluated again: the same scores.
    rmSync(join(out, 'log.jsonl'));
    const bare = await finetune(model, src, undefined, config(out, { ...two, resume: true }));
    assert.deepEqual(bare.perEpoch, whole.perEpoch.slice(-1));
  });
});

/** Run `fn` with every stderr line passed to `onLine` (which may throw: a kill at that point). */
async function watchingStderr<T>(onLine: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    for (const line of String(chunk).split('\n')) if (line) onLine(line);
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    return await fn();
  } finally {
    process.stderr.write = write;
  }
}

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
/** What a run decided and scored, without its speed. */
const outcome = (r: FinetuneResult) => {
  const { tokensPerSecond: _, ...rest } = r;
  return rest;
};

describe('finetune recipe by model and data', () => {
  const model = join(tmp, 'model-recipe');
  saveModel(model, createModel(structuredClone(small), 'assets/bert-base-uncased-vocab.txt', new Rng(1)));

  test('without --lr, --epochs, --max-length: chosen by model size and the data, printed and recorded', async () => {
    const out = join(tmp, 'by-rule');
    const lines: string[] = [];
    const res = await watchingStderr(
      (l) => lines.push(l),
      () => finetune(model, src, undefined, { ...DEFAULT_FINETUNE, out, batchSize: 16, threads: 1 }),
    );
    // hidden 32: a tiny model's lr; 96 rows at batch 16 are 6 updates an epoch: 5 epochs.
    const m = loadModel(model, { numLabels: 2 });
    const train = readTask(src, 'train');
    const lengths = encodeAll(m.tokenizer, train.examples, 64).map((x) => x.ids.length);
    const maxLength = maxLengthFor(lengths, 64);
    assert.deepEqual([res.recipe.lr, res.recipe.epochs, res.recipe.maxLength], [1e-3, 5, maxLength]);
    assert.deepEqual(Object.keys(res.recipe.chosen).sort(), ['epochs', 'lr', 'maxLength']);
    const line = lines.find((l) => l.startsWith('finetune sst2: 96 train'));
    assert.ok(line, lines.join('\n'));
    for (const s of [
      '5 epochs by data size (6 updates an epoch) x 6 steps',
      'lr 0.001 by model size (hidden_size 32)',
      `max length ${maxLength} from the data (99.9th percentile`,
      'early stopping after 2 epochs without a better dev score (not before epoch 3)',
    ])
      assert.ok(line.includes(s), `${s} in: ${line}`);
    const settings = json(join(out, 'finetune_config.json'));
    assert.deepEqual([settings.lr, settings.epochs, settings.maxLength], [1e-3, 5, maxLength]);
    assert.deepEqual(json(join(out, 'eval_results.json')).recipe, res.recipe);
    // Given values are used as they are, and nothing is said to be chosen.
    const given = await finetune(
      model,
      src,
      undefined,
      config(join(tmp, 'given'), { lr: 3e-4, maxLength: 24 }),
    );
    assert.deepEqual(given.recipe, { lr: 3e-4, epochs: 1, maxLength: 24, patience: 2, chosen: {} });
  });

  test('the maximum length from hand-made rows: 1,000 of 21 tokens and 1 of 300 words give 24, the long one truncated', async () => {
    const file = join(tmp, 'lengths.tsv');
    const words = (n: number, w: string) => Array.from({ length: n }, () => w).join(' ');
    const rows = Array.from({ length: 1000 }, (_, i) => `${words(19, i % 2 ? 'good' : 'bad')}\t${i % 2}`);
    rows.push(`${words(300, 'good')}\t1`);
    writeFileSync(file, `sentence\tlabel\n${rows.join('\n')}\n`);
    const own = { task: 'lengths', data: file, textColumn: 'sentence', labelColumn: 'label' };
    const noDev = { devFraction: 0, epochs: 2, batchSize: 128 };
    const res = await finetune(model, own, undefined, config(join(tmp, 'lengths'), noDev));
    assert.equal(res.recipe.maxLength, 24); // 19 words + [CLS] + [SEP] = 21, rounded up to 24
    assert.match(res.recipe.chosen.maxLength!, /1 of 1001 rows truncated/);
    // No dev data: every epoch is trained and the last kept.
    assert.deepEqual([res.devSource, res.epochsRun, res.bestEpoch], ['none', 2, 2]);
    assert.equal(existsSync(join(tmp, 'lengths', BEST_FILE)), false);
    const given = await finetune(
      model,
      own,
      undefined,
      config(join(tmp, 'lengths-40'), { ...noDev, maxLength: 40 }),
    );
    assert.equal(given.recipe.maxLength, 40);
    assert.equal(given.recipe.chosen.maxLength, undefined);
  });
});

describe('finetune keeps the best epoch', () => {
  const model = join(tmp, 'model-best');
  saveModel(model, createModel(structuredClone(small), 'assets/bert-base-uncased-vocab.txt', new Rng(1)));
  // At this lr the tiny model's dev score jumps about from epoch to epoch: the best is not the last.
  const run = { epochs: 8, lr: 3e-3, seed: 0 };
  const evalOpts = { maxLength: 64, batchSize: 32, threads: 1 };

  test("the best epoch's weights are saved: re-evaluated, the model scores what eval_results.json records", async () => {
    const out = join(tmp, 'best-all');
    const res = await finetune(model, src, undefined, config(out, { ...run, patience: 0 }));
    const scores = res.perEpoch.map((e) => e.score);
    assert.equal(res.epochsRun, 8);
    const best = scores.indexOf(Math.max(...scores)) + 1;
    assert.ok(
      best < 8 && scores[best - 1] > scores[7],
      `scores ${scores}: the test needs a best before the last`,
    );
    assert.equal(res.bestEpoch, best);
    assert.equal(res.score, scores[best - 1]);
    assert.equal(res.metrics.accuracy, res.perEpoch[best - 1].accuracy);
    const saved = json(join(out, 'eval_results.json'));
    assert.deepEqual([saved.bestEpoch, saved.score], [best, scores[best - 1]]);
    const again = await evaluateModel(out, src, 'dev', evalOpts);
    assert.equal(again.metrics.accuracy, res.metrics.accuracy);
    assert.notEqual(again.metrics.accuracy, res.perEpoch[7].accuracy);
  });

  test('--patience 2 stops after 2 epochs without a better dev score, and saves the best', async () => {
    const all = await finetune(
      model,
      src,
      undefined,
      config(join(tmp, 'patience-0'), { ...run, patience: 0 }),
    );
    const scores = all.perEpoch.map((e) => e.score);
    // Where patience 2 stops on this trajectory: the second epoch in a row not beating the best, from
    // epoch 4 (half the 8) on.
    let bestAt = 0;
    let stopAt = 8;
    for (let e = 1; e < 8; e++) {
      if (scores[e] > scores[bestAt]) bestAt = e;
      else if (e - bestAt >= 2 && e + 1 >= 4) {
        stopAt = e + 1;
        break;
      }
    }
    assert.ok(stopAt < 8, `scores ${scores}: the test needs an early stop`);
    const out = join(tmp, 'patience-2');
    const res = await finetune(model, src, undefined, config(out, { ...run, patience: 2 }));
    assert.equal(res.epochsRun, stopAt);
    assert.equal(res.bestEpoch, bestAt + 1);
    // The same run as without early stopping up to the stop (the schedule is the 8 epochs').
    assert.deepEqual(res.perEpoch, all.perEpoch.slice(0, stopAt));
    assert.equal((await evaluateModel(out, src, 'dev', evalOpts)).metrics.accuracy, res.metrics.accuracy);
  });

  test('a run killed mid-way resumes to the same result, with or without the best copy of its last checkpoint', async () => {
    const stopping = { ...run, patience: 2 };
    const whole = await finetune(model, src, undefined, config(join(tmp, 'whole-es'), stopping));
    const weights = readFileSync(join(tmp, 'whole-es', 'model.safetensors'));
    assert.ok(whole.epochsRun >= 4 && whole.bestEpoch >= 3, `${whole.epochsRun} ${whole.bestEpoch}`);
    const k = whole.bestEpoch; // killed after epoch k + 1's evaluation, before its checkpoint: resumes at k
    const at = (epoch: number) => `update ${6 * epoch}/48 `;
    const killed = async (out: string) => {
      let before: Buffer | undefined; // the best copy as it was before epoch k's
      await assert.rejects(
        watchingStderr(
          (line) => {
            if (line.includes(at(k))) before = readFileSync(join(out, BEST_FILE));
            if (line.includes(at(k + 1))) throw new Error('killed');
          },
          () => finetune(model, src, undefined, config(out, stopping)),
        ),
        /killed/,
      );
      return before!;
    };
    const resume = (out: string) =>
      finetune(model, src, undefined, config(out, { ...stopping, resume: true }));
    // Killed before epoch k + 1's checkpoint: the copy is epoch k's, the best so far.
    const a = join(tmp, 'killed-es');
    await killed(a);
    assert.equal(readBestRecord(join(a, BEST_FILE))?.update, 6 * k);
    const resumed = await resume(a);
    assert.deepEqual(outcome(resumed), outcome(whole));
    assert.ok(readFileSync(join(a, 'model.safetensors')).equals(weights));
    // Resumed again, a stopped run trains no further: the same model and result, with or without its log.
    const again = await resume(a);
    assert.deepEqual(outcome(again), outcome(whole));
    assert.ok(readFileSync(join(a, 'model.safetensors')).equals(weights));
    rmSync(join(a, 'log.jsonl'));
    const bare = await resume(a);
    assert.deepEqual(
      [bare.epochsRun, bare.bestEpoch, bare.metrics],
      [whole.epochsRun, whole.bestEpoch, whole.metrics],
    );
    assert.ok(readFileSync(join(a, 'model.safetensors')).equals(weights));
    // Killed between epoch k's checkpoint and its copy: the copy is an earlier epoch's, yet the resume
    // finds epoch k's score in the log and keeps the checkpoint's weights as the best.
    const b = join(tmp, 'killed-es-b');
    const stale = await killed(b);
    writeFileAtomic(join(b, BEST_FILE), stale);
    const staleUpdate = readBestRecord(join(b, BEST_FILE))?.update;
    assert.ok(staleUpdate! < 6 * k, `the copy before epoch ${k}'s is from update ${staleUpdate}`);
    assert.deepEqual(outcome(await resume(b)), outcome(whole));
    assert.ok(readFileSync(join(b, 'model.safetensors')).equals(weights));
  });
});
