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
import { combineHybrid, DEFAULT_HYBRID } from '../train/hybrid.js';
import { stageDir } from './config.js';
import { devDataSource } from './data.js';
import { isCandidate } from './pick.js';
import { hybridBuckets, hybridFits, type Int8Size, transformerInt8 } from './sizes.js';
import { modelLeftBy, type Stage, type StageContext, type StageOutput } from './stage.js';

/**
 * The baseline with `buckets` hash buckets; the rest as `minnow baseline` has it. With `pairs` (text-pair
 * data), the stage `baseline-pairs`: the same model with the two texts' similarity features too
 * (`minnow baseline --pair-features`, features.ts pairSimilarity). With `balanced`, the stage
 * `baseline-balanced`: classes weighted to balance (`--class-weight balanced`), with the pair features
 * when `pairs`.
 */
export function baselineStage(buckets: number, { pairs = false, balanced = false } = {}): Stage {
  return {
    name: balanced ? 'baseline-balanced' : pairs ? 'baseline-pairs' : 'baseline',
    what: `word and character n-gram TF-IDF${pairs ? ' and pair similarity features' : ''} + linear model (${buckets.toLocaleString('en-US')} hash buckets)${balanced ? ', classes weighted to balance' : ''}, C picked on dev`,
    budgeted: true,
    async run(ctx: StageContext): Promise<StageOutput> {
      const model = join(ctx.dir, 'model');
      const c = ctx.config;
      const res = trainBaseline(ctx.src, ctx.dev, {
        ...DEFAULT_BASELINE,
        out: model,
        ngram: {
          ...DEFAULT_BASELINE.ngram,
          buckets,
          seed: c.seed,
          ...(pairs ? { pair_features: true } : {}),
        },
        devFraction: c.devFraction,
        seed: c.seed,
        deadline: ctx.deadline,
        classWeight: balanced ? 'balanced' : 'none',
      });
      // The file's bytes, from the weights trained (they depend only on the buckets and classes).
      const m = loadNgramModel(model);
      const K = columnsOf(m.config);
      const bytes = ngramOnnx(m.weights, m.config.ngram, m.config.num_labels, K, true).length;
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

/**
 * Fine-tune the shipped model `name` (directory `dir`), whose int8 file measures `int8`; with `from`, the
 * model that stage (task-adaptive pre-training) left instead, where it ran.
 */
export function finetuneStage(name: string, dir: string, int8: Int8Size, from?: string): Stage {
  return {
    name: `finetune-${name}`,
    what: `fine-tune ${name} (default recipe${from ? `, from ${from}'s model if it ran` : ''})`,
    budgeted: true,
    ...(from ? { key: ({ earlier }) => String(earlier.get(from)?.finishedAt ?? 'none') } : {}),
    async run(ctx: StageContext): Promise<StageOutput> {
      const out = join(ctx.dir, 'model');
      const c = ctx.config;
      const init = modelLeftBy(ctx.earlier, (s) => stageDir(c.out, s), from, dir);
      const res = await finetune(init.dir, ctx.src, ctx.dev, {
        ...DEFAULT_FINETUNE,
        out,
        seed: c.seed,
        threads: c.threads,
        devFraction: c.devFraction,
        deadline: ctx.deadline,
        // A killed fit left this stage's checkpoints: finetune's own --resume continues from the last.
        resume: ctx.unfinished && existsSync(join(out, 'checkpoints')),
      });
      const { lr, epochs, maxLength } = res.recipe;
      return {
        score: res.score,
        metrics: res.metrics,
        candidate: { model: 'model', kind: 'transformer', int8 },
        note: `${init.from ? `after ${init.from}, ` : ''}lr ${lr}, epoch ${res.bestEpoch} of ${res.epochsRun} kept (recipe ${epochs}), max length ${maxLength}`,
        details: {
          model: name,
          from: init.dir,
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

/**
 * The n-gram paths a hybrid stage tries, each fitted in the same buckets: the baseline's features, and words
 * only; for text pairs also the baseline's features with the pair similarity features.
 */
export const HYBRID_PATHS = [
  { name: 'word+char', ngram: { char_ngrams: DEFAULT_BASELINE.ngram.char_ngrams }, pairsOnly: false },
  { name: 'word', ngram: { char_ngrams: null }, pairsOnly: false },
  {
    name: 'word+char+pairs',
    ngram: { char_ngrams: DEFAULT_BASELINE.ngram.char_ngrams, pair_features: true },
    pairsOnly: true,
  },
] as const;

/**
 * The fine-tune stage `of`'s model plus an n-gram path in the bytes its int8 file leaves under --max-bytes:
 * a baseline with that many buckets, with word and character n-grams and with words only (SST-2 and STS-B
 * gain from characters even in 2^15 buckets, MRPC does not), each added with its weight alpha picked on
 * dev; for text pairs also word and character n-grams with the pair similarity features. The best hybrid on
 * dev is kept.
 */
export function hybridStage(of: string, pairs = false): Stage {
  return {
    name: of.startsWith('finetune-') ? of.replace(/^finetune-/, 'hybrid-') : `hybrid-${of}`,
    what: `${of}'s model plus an n-gram path in the bytes left under --max-bytes, features and alpha picked on dev`,
    budgeted: true,
    key: ({ earlier }) => String(earlier.get(of)?.finishedAt ?? 'none'),
    async run(ctx: StageContext): Promise<StageOutput> {
      const t = ctx.earlier.get(of);
      if (!t || !isCandidate(t)) return { note: `${of} did not run: nothing to add an n-gram path to` };
      const c = ctx.config;
      const bytes = t.candidate.int8.bytes;
      if (!hybridFits(c.maxBytes, bytes, ctx.data.head))
        return {
          note: `${of}'s int8 file, ${bytes.toLocaleString('en-US')} bytes, leaves no room for an n-gram path`,
        };
      const buckets = hybridBuckets(c.maxBytes, bytes, ctx.data.head);
      const tried: { path: string; score: number; alpha: number; baselineScore: number; C: number }[] = [];
      for (const p of HYBRID_PATHS.filter((x) => pairs || !x.pairsOnly)) {
        const baseline = join(ctx.dir, `baseline-${p.name}`);
        const fitted = trainBaseline(ctx.src, ctx.dev, {
          ...DEFAULT_BASELINE,
          out: baseline,
          ngram: { ...DEFAULT_BASELINE.ngram, ...p.ngram, buckets, seed: c.seed },
          devFraction: c.devFraction,
          seed: c.seed,
        });
        const res = await combineHybrid(
          join(stageDir(c.out, of), t.candidate.model),
          baseline,
          devDataSource(ctx),
          { ...DEFAULT_HYBRID, out: join(ctx.dir, `model-${p.name}`), threads: c.threads },
        );
        tried.push({
          path: p.name,
          score: res.score ?? -Infinity,
          alpha: res.alpha,
          baselineScore: fitted.score,
          C: fitted.C,
        });
      }
      const best = tried.reduce((a, b) => (b.score > a.score ? b : a));
      const model = `model-${best.path}`;
      const int8 = transformerInt8(join(ctx.dir, model), ctx.data.head, c.maxPositions);
      return {
        score: best.score,
        candidate: { model, kind: 'hybrid', int8 },
        note: `${best.path} n-grams in ${buckets.toLocaleString('en-US')} buckets, alpha ${best.alpha} (the path alone ${best.baselineScore.toFixed(2)}; ${tried
          .filter((x) => x !== best)
          .map((x) => `${x.path}: ${x.score.toFixed(2)}`)
          .join(', ')})`,
        details: { path: best.path, alpha: best.alpha, buckets, tried },
      };
    },
  };
}
