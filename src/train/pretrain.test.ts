/** Masked-LM pre-training end to end on a small text: it learns, and a resumed run is bit-exact. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { minnow } from '../cli/cli.testkit.js';
import type { BertConfig } from '../model/config.js';
import { smallPreset } from '../model/config.testkit.js';
import { readSafetensors } from '../runtime/safetensors-file.js';
import { createModel } from '../model/io.js';
import { writeFileAtomic } from '../util/atomic.js';
import { Rng } from '../util/rng.js';
import { constantGuessLoss, DEFAULT_ELECTRA } from './electra.js';
import { type PretrainConfig, pretrain, unigramLogPrior } from './pretrain.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-pt-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const small = smallPreset('uno-eelbert');

/** The same with every hash variant on: word-start markers, a whole-token share, the trainable projection. */
const variants: BertConfig = {
  ...small,
  hash_embedding: { ...small.hash_embedding!, boundaries: true, wholeToken: 0.25, projection: true },
};

const corpus = join(tmp, 'corpus.txt');
const rng = new Rng(4);
const subjects = ['the cat', 'the dog', 'a bird', 'my friend', 'the old man'];
const verbs = ['sat on', 'looked at', 'ran to', 'walked past'];
const objects = ['the mat', 'the door', 'the river', 'the house'];
writeFileSync(
  corpus,
  Array.from(
    { length: 1500 },
    () => `${subjects[rng.int(5)]} ${verbs[rng.int(4)]} ${objects[rng.int(4)]} .`,
  ).join('\n'),
);

function config(out: string, over: Partial<PretrainConfig> = {}): PretrainConfig {
  return {
    out,
    corpus,
    valid: corpus,
    tokens: 40 * 16 * 30,
    seqLen: 32,
    batchSize: 16,
    accumulation: 1,
    lr: 3e-3,
    warmup: 0.1,
    decay: 'linear',
    weightDecay: 0.01,
    clipNorm: 1,
    masking: { probability: 0.15, maskFraction: 0.8, randomFraction: 0.1, wholeWord: false },
    seed: 1,
    threads: 1,
    evalEvery: 0,
    validSequences: 64,
    checkpointEvery: 20,
    resume: false,
    cacheDir: join(tmp, 'cache'),
    ...over,
  };
}

describe('pretrain', () => {
  test('the MLM loss falls well below chance (ln 30522 = 10.3) on a small repetitive corpus', async () => {
    const m = createModel(structuredClone(small), 'assets/bert-base-uncased-vocab.txt', new Rng(1), {
      mlm: true,
    });
    const r = await pretrain(m, config(join(tmp, 'a')));
    const last = r.evals[r.evals.length - 1];
    assert.ok(last.valid_mlm_loss < 8, `valid loss ${last.valid_mlm_loss} (chance: ln 30522 = 10.3)`);
    assert.ok(last.valid_mlm_accuracy > 0.15, `valid accuracy ${last.valid_mlm_accuracy}`);
    // The model records how it was pre-trained, and `minnow info` shows it.
    const cfg = JSON.parse(readFileSync(join(tmp, 'a', 'config.json'), 'utf8'));
    assert.equal(cfg.minnow_pretraining.length, 1);
    assert.deepEqual(
      { ...cfg.minnow_pretraining[0], date: undefined },
      {
        corpus: 'corpus.txt',
        tokens: 40 * 16 * 30,
        updates: r.updates,
        batch_size: 16,
        seq_len: 32,
        lr: 3e-3,
        valid_mlm_loss: last.valid_mlm_loss,
        valid_mlm_accuracy: last.valid_mlm_accuracy,
        date: undefined,
      },
    );
    assert.match(
      minnow('info', join(tmp, 'a')).out,
      /pre-trained +19,200 tokens of corpus\.txt \(\d+ updates of 16 x 32, lr 0\.003\): valid MLM loss \d/,
    );
  });

  test('ELECTRA: the generator learns masked-LM, the discriminator beats any constant guess, and the config records the run', async () => {
    const out = join(tmp, 'electra');
    const r = await pretrain(
      createModel(structuredClone(small), 'assets/bert-base-uncased-vocab.txt', new Rng(1), { mlm: true }),
      config(out, {
        objective: 'electra',
        electra: { ...DEFAULT_ELECTRA, generatorHidden: 16 },
        tokens: 40 * 16 * 30 * 4,
      }),
    );
    const last = r.evals.at(-1)!;
    assert.ok(last.valid_generator_mlm_loss < 7, `generator MLM loss ${last.valid_generator_mlm_loss}`);
    // A constant guess can do no better than the entropy of the replaced fraction q: the discriminator
    // must be using the text.
    const q = last.valid_replaced_fraction;
    assert.ok(q > 0.02, `replaced ${q}`);
    const entropy = constantGuessLoss(q);
    assert.ok(last.valid_rtd_loss < entropy - 0.03, `RTD loss ${last.valid_rtd_loss} vs constant ${entropy}`);
    assert.ok(last.valid_rtd_accuracy >= 1 - q, `accuracy ${last.valid_rtd_accuracy} vs ${1 - q}`);
    const c = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.equal(c.minnow_pretraining.at(-1).objective, 'electra');
    assert.equal(c.minnow_pretraining.at(-1).generator_hidden, 16);
    assert.equal(c.minnow_pretraining.at(-1).sample_temperature, undefined); // 1, the default, is not written
    assert.equal(c.hidden_size, 32); // the discriminator's config, not the generator's
  });

  test('--decoder-bias unigram: the untrained model already predicts piece frequencies', async () => {
    const pieces = Uint16Array.from([5, 5, 5, 7 | 0x8000, 9]); // the word-start bit is ignored
    const prior = unigramLogPrior(pieces, 10);
    assert.ok(Math.abs(prior[5] - Math.log(4 / 15)) < 1e-6);
    assert.ok(Math.abs(prior[7] - Math.log(2 / 15)) < 1e-6);
    assert.ok(Math.abs(prior[0] - Math.log(1 / 15)) < 1e-6);
    // One update at lr 0: the validation loss is the initial model's. Zero bias: about ln 30522 = 10.3
    // (uniform); unigram bias: far lower, though add-one smoothing still gives most of the mass to the
    // 30,000 pieces this 20-word, 12k-piece corpus never uses.
    const first = async (decoderBias: 'zeros' | 'unigram') => {
      const m = createModel(structuredClone(small), 'assets/bert-base-uncased-vocab.txt', new Rng(1), {
        mlm: true,
      });
      const r = await pretrain(
        m,
        config(join(tmp, `bias-${decoderBias}`), { tokens: 1, lr: 0, decoderBias }),
      );
      return r.evals[r.evals.length - 1].valid_mlm_loss;
    };
    const zeros = await first('zeros');
    const unigram = await first('unigram');
    assert.ok(zeros > 9.5, `zero bias: ${zeros}`);
    assert.ok(unigram < zeros - 3, `unigram bias: ${unigram}, zero bias: ${zeros}`);
  });

  const electra: Partial<PretrainConfig> = {
    objective: 'electra',
    electra: { ...DEFAULT_ELECTRA, generatorHidden: 16, sampleTemperature: 2 },
  };
  test('--resume on a corpus edited in place under the same name is refused, naming the corpus content', async () => {
    const dir = join(tmp, 'edited');
    mkdirSync(dir);
    const text = join(dir, 'corpus.txt');
    writeFileSync(text, readFileSync(corpus, 'utf8'));
    const out = join(dir, 'run');
    const over = { corpus: text, valid: undefined, tokens: 20 * 16 * 30, checkpointEvery: 10 };
    const model = () =>
      createModel(structuredClone(small), 'assets/bert-base-uncased-vocab.txt', new Rng(1), { mlm: true });
    await pretrain(model(), config(out, over));
    // Same name, same length in pieces, one word changed: only the content says it is another corpus.
    writeFileSync(text, readFileSync(corpus, 'utf8').replace('the cat', 'the dog'));
    await assert.rejects(
      pretrain(model(), config(out, { ...over, resume: true })),
      /--resume: .* was written with other settings \(corpus content \(--corpus: the file's tokens\) "[0-9a-f]{16}" there, "[0-9a-f]{16}" now\)/,
    );
    // The unchanged corpus resumes.
    writeFileSync(text, readFileSync(corpus, 'utf8'));
    await pretrain(model(), config(out, { ...over, resume: true }));
  });

  for (const [what, cfg, over] of [
    ['', small, {}],
    [', hash variants with the trainable projection', variants, {}],
    [
      ', a low-rank code table (its MLM decoder tied to codes x projection)',
      { ...small, embedding_type: 'lowrank', lowrank_dim: 4, hash_embedding: undefined } as BertConfig,
      {},
    ],
    [', ELECTRA (the generator and its samples at temperature 2 resume too)', small, electra],
  ] as const)
    test(`an interrupted run resumed from its checkpoint ends with identical weights (2 threads, the default)${what}`, async () => {
      const full = join(tmp, `full${what.length}`);
      await pretrain(
        createModel(structuredClone(cfg), 'assets/bert-base-uncased-vocab.txt', new Rng(1), { mlm: true }),
        config(full, { valid: undefined, threads: 2, ...over }),
      );
      // The "interrupted" twin: same run, but its last checkpoint and final model are lost (crash after update 20).
      const cut = join(tmp, `cut${what.length}`);
      await pretrain(
        createModel(structuredClone(cfg), 'assets/bert-base-uncased-vocab.txt', new Rng(1), { mlm: true }),
        config(cut, { valid: undefined, threads: 2, ...over }),
      );
      rmSync(join(cut, 'checkpoints', 'step-000040'), { recursive: true });
      rmSync(join(cut, 'model.safetensors'));
      writeFileAtomic(join(cut, 'checkpoints', 'latest'), 'step-000020\n');
      await pretrain(
        createModel(structuredClone(cfg), 'assets/bert-base-uncased-vocab.txt', new Rng(99), { mlm: true }),
        config(cut, { valid: undefined, resume: true, threads: 2, ...over }),
      );
      assert.ok(
        readFileSync(join(full, 'model.safetensors')).equals(readFileSync(join(cut, 'model.safetensors'))),
      );
      if (cfg !== small)
        assert.ok(
          readSafetensors(join(cut, 'model.safetensors')).tensors.has(
            'bert.embeddings.word_projection.weight',
          ),
        );
      if (over === electra) {
        // Only the discriminator is the model: no generator, no discriminator head, no MLM head.
        const names = [...readSafetensors(join(cut, 'model.safetensors')).tensors.keys()];
        assert.ok(names.includes('bert.encoder.layer.0.attention.self.query.weight'));
        assert.deepEqual(
          names.filter((n) => !n.startsWith('bert.')),
          [],
        );
        assert.ok(!existsSync(join(cut, 'mlm_head.safetensors')));
        // The temperature is recorded, and `minnow info` says so.
        const rec = JSON.parse(readFileSync(join(cut, 'config.json'), 'utf8')).minnow_pretraining.at(-1);
        assert.equal(rec.sample_temperature, 2);
        assert.match(
          minnow('info', cut).out,
          /with ELECTRA \(generator hidden 16, as deep, RTD weight 50, samples at temperature 2\)/,
        );
        // Resuming it at another temperature would not replay this run: refused, naming the setting, and
        // its recorded settings stay as they were.
        const settings = readFileSync(join(cut, 'pretrain_config.json'));
        await assert.rejects(
          pretrain(
            createModel(structuredClone(cfg), 'assets/bert-base-uncased-vocab.txt', new Rng(1), {
              mlm: true,
            }),
            config(cut, {
              valid: undefined,
              resume: true,
              threads: 2,
              ...over,
              electra: { ...DEFAULT_ELECTRA, generatorHidden: 16, sampleTemperature: 3 },
            }),
          ),
          /--resume: .* was written with other settings \(--sample-temperature 2 there, 3 now\)/,
        );
        assert.ok(readFileSync(join(cut, 'pretrain_config.json')).equals(settings));
        return;
      }
      assert.ok(
        readFileSync(join(full, 'mlm_head.safetensors')).equals(
          readFileSync(join(cut, 'mlm_head.safetensors')),
        ),
      );
    });
});
