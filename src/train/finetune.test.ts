/**
 * Fine-tuning's --resume: a checkpoint remembers the run that wrote it (seed, data, batch shape, length,
 * optimiser), and a resume with other settings is refused in one line that names them by their flags.
 */
import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { smallPreset } from '../model/config.testkit.js';
import { createModel, saveModel } from '../model/io.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { DEFAULT_FINETUNE, type FinetuneConfig, finetune } from './finetune.js';

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
          '--max-length 64 there, 32 now',
        ])
          assert.ok(e.message.includes(s), `${s} in: ${e.message}`);
        return true;
      },
    );
    assert.ok(readFileSync(join(out, 'finetune_config.json')).equals(settings));
    assert.ok(readFileSync(join(out, 'model.safetensors')).equals(weights));
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
