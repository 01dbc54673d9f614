/**
 * Task-adaptive pre-training (Gururangan et al. 2020, "Don't Stop Pretraining"): before a shipped model is
 * fine-tuned, its masked-LM pre-training continues on the task's own training texts (never the dev rows).
 * The shipped models were pre-trained on public-domain books; reviews, emails or news read differently.
 * The stage writes the texts to STAGE/corpus.txt (a text and its pair each a line), runs `minnow pretrain
 * --model` for a few passes over them, and leaves STAGE/model for the fine-tune stage after it.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusTokens } from '../data/corpus.js';
import { DEFAULT_PRETRAIN, pretrain, pretrainModel } from '../train/pretrain.js';
import type { Stage, StageContext, StageOutput } from './stage.js';

export interface TaptConfig {
  /** Passes over the training texts ... */
  epochs: number;
  /** ... but at least this many tokens (small data: more passes, up to maxEpochs) and at most maxTokens. */
  minTokens: number;
  maxEpochs: number;
  maxTokens: number;
  /** Training texts of fewer tokens are not pre-trained on: the model is fine-tuned as shipped. */
  minCorpusTokens: number;
  lr: number;
  batchSize: number;
}

/**
 * Measured (results/tapt.md): on SST-2 (762k tokens of texts) 3M tokens, about 4 passes, at lr 5e-4, batch
 * 16 gain 1.5 points; on 150k-200k tokens (MRPC, RTE, STS-B) 1M tokens are within the seeds' spread; on
 * fewer (CoLA's 80k, examples/sst2's 22k) the fine-tune lost up to 2 points, so they are not pre-trained on.
 * The shipped models carry no MLM head, so the head starts fresh and learns with the encoder.
 */
export const DEFAULT_TAPT: Readonly<TaptConfig> = Object.freeze({
  epochs: 4,
  minTokens: 1_000_000,
  maxEpochs: 20,
  maxTokens: 3_000_000,
  minCorpusTokens: 100_000,
  lr: 5e-4,
  batchSize: 16,
});

/** The token budget of a TAPT run over a corpus of `corpusTokens` tokens. */
export function taptTokens(corpusTokens: number, c: TaptConfig = DEFAULT_TAPT): number {
  const floor = Math.min(c.minTokens, c.maxEpochs * corpusTokens);
  return Math.max(1, Math.round(Math.min(c.maxTokens, Math.max(floor, c.epochs * corpusTokens))));
}

/** TAPT of the shipped model `name` (directory `dir`): STAGE/model, the fine-tune stage's starting point. */
export function taptStage(name: string, dir: string, c: TaptConfig = DEFAULT_TAPT): Stage {
  return {
    name: `tapt-${name}`,
    what: `task-adaptive pre-training of ${name}: masked LM on the training texts`,
    budgeted: true,
    async run(ctx: StageContext): Promise<StageOutput> {
      const corpus = join(ctx.dir, 'corpus.txt');
      const lines: string[] = [];
      for (const e of ctx.data.train.examples) {
        lines.push(e.text);
        if (e.pair !== undefined) lines.push(e.pair);
      }
      writeFileSync(corpus, `${lines.join('\n')}\n`);
      const out = join(ctx.dir, 'model');
      const model = pretrainModel({ model: dir, vocab: '' }, ctx.config.seed);
      const cacheDir = join(ctx.dir, 'cache');
      const count = (await corpusTokens(corpus, model.tokenizer, cacheDir)).count;
      if (count < c.minCorpusTokens)
        return {
          note: `not run: ${count.toLocaleString('en-US')} tokens of training texts, fewer than ${c.minCorpusTokens.toLocaleString('en-US')} (too few to gain from; results/tapt.md)`,
          details: { corpusTokens: count },
        };
      const tokens = taptTokens(count, c);
      const res = await pretrain(model, {
        ...DEFAULT_PRETRAIN,
        out,
        corpus,
        tokens,
        lr: c.lr,
        batchSize: c.batchSize,
        seed: ctx.config.seed,
        threads: ctx.config.threads,
        cacheDir,
        // A killed fit left this stage's checkpoints: pretrain's own --resume continues from the last.
        resume: ctx.unfinished && existsSync(join(out, 'checkpoints')),
        deadline: ctx.deadline,
      });
      return {
        note: `${tokens.toLocaleString('en-US')} tokens (${(tokens / count).toFixed(1)} passes over ${count.toLocaleString('en-US')}), ${res.updates} updates`,
        details: { model: 'model', corpusTokens: count, tokens, updates: res.updates, lr: c.lr },
      };
    },
  };
}
