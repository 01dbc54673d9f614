/**
 * The stages that make candidates: the n-gram baseline (trainBaseline, its buckets sized to --max-bytes)
 * and a fine-tune of a shipped pre-trained model with finetune's default recipe (lr, epochs and maximum
 * length chosen by the model and the data; early stopping keeps the best epoch). Both score the same dev
 * rows (one seed), and write their model to STAGE/model.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { columnsOf, loadNgramModel } from '../ngram/io.js';
import { ngramOnnx } from '../ngram/graph.js';
import { DEFAULT_BASELINE, trainBaseline } from '../train/baseline.js';
import { DEFAULT_FINETUNE, finetune } from '../train/finetune.js';
import type { Int8Size } from './sizes.js';
import type { Stage, StageContext, StageOutput } from './stages.js';

/** The baseline with `buckets` hash buckets; the rest as `minnow baseline` has it. */
export function baselineStage(buckets: number): Stage {
  return {
    name: 'baseline',
    what: `word and character n-gram TF-IDF + linear model (${buckets.toLocaleString('en-US')} hash buckets), C picked on dev`,
    budgeted: true,
    async run(ctx: StageContext): Promise<StageOutput> {
      const model = join(ctx.dir, 'model');
      const c = ctx.config;
      const res = trainBaseline(ctx.src, ctx.dev, {
        ...DEFAULT_BASELINE,
        out: model,
        ngram: { ...DEFAULT_BASELINE.ngram, buckets, seed: c.seed },
        devFraction: c.devFraction,
        seed: c.seed,
      });
      // The file's bytes, from the weights trained (they depend only on the buckets and classes).
      const m = loadNgramModel(model);
      const K = columnsOf(m.config);
      const bytes = ngramOnnx(m.weights, m.config.num_labels, K, true).length;
      const int8: Int8Size = { variant: 'portable_quantized', file: 'onnx/model_quantized.onnx', bytes };
      return {
        score: res.score,
        metrics: res.metrics,
        candidate: { model: 'model', kind: 'ngram', int8 },
        note: `C ${res.C}, ${buckets.toLocaleString('en-US')} buckets`,
        details: { C: res.C, buckets, path: res.path, trainExamples: res.trainExamples },
      };
    },
  };
}

/** Fine-tune the shipped model `name` (directory `dir`), whose int8 file measures `int8`. */
export function finetuneStage(name: string, dir: string, int8: Int8Size): Stage {
  return {
    name: `finetune-${name}`,
    what: `fine-tune ${name} (default recipe)`,
    budgeted: true,
    async run(ctx: StageContext): Promise<StageOutput> {
      const out = join(ctx.dir, 'model');
      const c = ctx.config;
      const res = await finetune(dir, ctx.src, ctx.dev, {
        ...DEFAULT_FINETUNE,
        out,
        seed: c.seed,
        threads: c.threads,
        devFraction: c.devFraction,
        // A killed fit left this stage's checkpoints: finetune's own --resume continues from the last.
        resume: ctx.unfinished && existsSync(join(out, 'checkpoints')),
      });
      const { lr, epochs, maxLength } = res.recipe;
      return {
        score: res.score,
        metrics: res.metrics,
        candidate: { model: 'model', kind: 'transformer', int8 },
        note: `lr ${lr}, epoch ${res.bestEpoch} of ${res.epochsRun} kept (recipe ${epochs}), max length ${maxLength}`,
        details: {
          model: name,
          recipe: res.recipe,
          bestEpoch: res.bestEpoch,
          epochsRun: res.epochsRun,
          perEpoch: res.perEpoch,
          trainExamples: res.trainExamples,
        },
      };
    },
  };
}
