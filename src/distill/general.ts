/**
 * General (task-agnostic) distillation on a text corpus: a pre-trained teacher trains a student on
 * unlabelled text, with the pre-training machinery (token cache, SequenceSampler windows, dynamic
 * masking, runTraining with checkpoints and bit-exact --resume, log.jsonl with every loss term).
 *
 * - DistilBERT (docs/methods.md §3.2): L = a_ce * L_ce + a_mlm * L_mlm + a_cos * L_cos on masked windows.
 *   L_ce is T^2 * KL(teacher || student) between the two MLM distributions over the whole vocabulary at
 *   temperature T; L_mlm the student's MLM loss on the masked tokens; L_cos the mean over non-padding
 *   tokens of 1 - cos(last hidden states), which needs equal widths. Defaults 5 / 2 / 1, T = 2.
 *   Where L_ce is taken: DistilBERT's code uses every non-padding position (`--restrict_ce_to_mask` off).
 *   minnow's default is the MASKED positions only (`positions: "masked"`, its `--restrict_ce_to_mask`):
 *   the teacher and the student then share one (K, V) problem with K = the masked count (about 15% of
 *   the tokens), which costs about what the MLM decoder already costs; every position gives ~6.7x the
 *   rows (measured 4.3x slower per token for eelbert-tiny from a bert-tiny teacher, and a (B*T, V) float
 *   tensor is 500 MB at B = 32, T = 128, V = 30,522, of which the loss keeps about five alive).
 *   `positions: "all"` follows DistilBERT's default; bound its memory with a smaller micro-batch
 *   (--batch-size / --accumulation).
 * - TinyBERT general distillation (docs/methods.md §4.3): the intermediate-layer losses only (embedding,
 *   hidden states through learned projections, attention scores; mapping from the distill config,
 *   default uniform with attention, heads averaged where the counts differ), no prediction layer, on
 *   unmasked windows. The graph code is task distillation's (distill.ts intermediateTerms).
 *
 * In both modes the teacher runs without dropout on the same inputs as the student (DistilBERT's
 * teacher sees the masked input too) and its states are recomputed per batch. Extra intermediate matches
 * given in the config's "intermediate" are added to DistilBERT's loss as well.
 *
 * The output is a student model directory (config.json, model.safetensors, vocab.txt, and
 * mlm_head.safetensors when the student has an MLM head: always after DistilBERT, after TinyBERT when
 * the student directory came with one); the learned projections (distill.*) are dropped.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { bertFeeds } from '../data/batch.js';
import { corpusTokens, type Sequence, SequenceSampler } from '../data/corpus.js';
import type { Graph, Value } from '../graph/graph.js';
import * as o from '../graph/ops.js';
import { bertInputs, encoder, mlmHead } from '../model/bert.js';
import { Dropout } from '../runtime/dropout.js';
import { type Weights } from '../runtime/weights.js';
import { sameEmbeddingKind } from '../model/embeddings/registry.js';
import { createModel, loadModel, type Model, saveModel } from '../model/io.js';
import { DEFAULT_ADAMW } from '../runtime/optim.js';
import { lrSchedule } from '../runtime/schedule.js';
import { readSafetensors } from '../runtime/safetensors-file.js';
import type { Tensor } from '../runtime/session.js';
import { latestCheckpoint } from '../train/checkpoint.js';
import { type Batch, runTraining } from '../train/loop.js';
import { BERT_FIRST_ORDINARY_ID, type MaskingConfig, maskBatch } from '../train/masking.js';
import { openCorpus } from '../train/pretrain.js';
import { TrainStep } from '../train/step.js';
import { Forward } from '../runtime/forward.js';
import { ensureDir, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { info, JsonLog } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { initProjections, intermediateTerms, teacherStates } from './intermediate.js';
import { type LossTerm, sumTerms } from './loss-terms.js';
import { initFromTeacher } from './init.js';
import { cosineLoss, distilMlmLoss, teacherSoftTargets, tokenMask } from './kd-losses.js';
import {
  type GeneralDistillOptions,
  GENERAL_DISTILL_SETTING_NAMES,
  type GeneralMethod,
} from './general-config.js';
import { describePlan, type ResolvedPlan, resolveMapping } from './mapping.js';

export {
  type CePositions,
  DEFAULT_DISTILBERT,
  DEFAULT_GENERAL_DISTILL,
  defaultGeneralConfig,
  DISTILBERT_SCHEMA,
  type DistilbertSettings,
  GENERAL_DISTILL_SETTINGS,
  type GeneralDistillOptions,
  type GeneralMethod,
  parseGeneralConfig,
} from './general-config.js';

export interface GeneralDistillResult {
  method: GeneralMethod;
  out: string;
  updates: number;
  tokensPerSecond: number;
  /** Validation results: update 0 (before training, unless resumed), each --eval-every, the end. */
  evals: Record<string, number>[];
}

const isHead = (n: string) => n.startsWith('cls.');

/**
 * The teacher, with its masked-LM head when `mlm`: from mlm_head.safetensors, or from model.safetensors
 * when that holds `cls.predictions.*` (a Hugging Face BertForPreTraining / BertForMaskedLM checkpoint).
 */
function loadTeacher(dir: string, mlm: boolean): Model {
  if (!mlm) return loadModel(dir);
  const t = loadModel(dir, { mlm: true }); // checks the directory first
  if (existsSync(join(dir, 'mlm_head.safetensors'))) return t;
  const weights = join(dir, 'model.safetensors');
  const file = readSafetensors(weights);
  if (file.tensors.has('cls.predictions.bias')) {
    t.store.load(file, weights, { only: isHead, allowMissing: (n) => !isHead(n) });
    return t;
  }
  throw new UserError(
    `${dir}: the teacher has no masked-LM head (no mlm_head.safetensors); --method distilbert distils its MLM distribution (use a teacher from minnow pretrain, or --method tinybert)`,
  );
}

/** Random replacements for masking: BERT's range, or after the leading [..] tokens of a small vocabulary. */
function randomRangeFor(m: Model, cfg: MaskingConfig): MaskingConfig {
  const vocab = m.tokenizer.vocabulary;
  if (cfg.randomRange || vocab.length > BERT_FIRST_ORDINARY_ID) return cfg;
  let lo = 0;
  while (lo < vocab.length - 1 && /^\[.+\]$/.test(vocab[lo])) lo++;
  return { ...cfg, randomRange: [lo, vocab.length] };
}

interface Prepared {
  feeds: Record<string, Tensor | BigInt64Array>;
  sizes: Record<string, number>;
  tokens: number;
  /** MLM targets in the batch (accuracy denominator). */
  masked: number;
}

export async function generalDistill(c: GeneralDistillOptions): Promise<GeneralDistillResult> {
  if (c.batchSize % c.accumulation !== 0)
    throw new UserError(`--batch-size ${c.batchSize} is not divisible by --accumulation ${c.accumulation}`);
  const distilbert = c.method === 'distilbert' ? c.distilbert : undefined;
  const teacher = loadTeacher(c.teacher, !!distilbert);
  const ownVocab = join(c.teacher, 'vocab.txt');
  let student: Model;
  if ('dir' in c.student) {
    const head = !!distilbert || existsSync(join(c.student.dir, 'mlm_head.safetensors'));
    student = loadModel(c.student.dir, { mlm: head, rng: new Rng(c.seed) });
  } else {
    // A preset student takes the teacher's vocabulary: both models must read the same token ids.
    const vocab = existsSync(ownVocab) ? ownVocab : c.vocab;
    student = createModel(c.student.config, vocab, new Rng(c.seed), { mlm: !!distilbert });
  }
  if (student.tokenizer.vocabulary.join('\n') !== teacher.tokenizer.vocabulary.join('\n')) {
    throw new UserError(
      `distill: teacher ${c.teacher} and student ${'dir' in c.student ? c.student.dir : c.student.preset} use different vocabularies; token-level distillation needs the same tokenizer`,
    );
  }
  const tc = teacher.config;
  const sc = student.config;
  const maxPositions = Math.min(tc.max_position_embeddings, sc.max_position_embeddings);
  if (c.seqLen > maxPositions)
    throw new UserError(
      `--seq-len ${c.seqLen} exceeds max_position_embeddings ${maxPositions} of the teacher or the student`,
    );
  if (c.initLayers) {
    const copied = initFromTeacher(student, teacher, c.initLayers);
    // DistilBERT also starts from the teacher's MLM head (its vocab projector and transform).
    let head = 0;
    if (distilbert && sameEmbeddingKind(teacher.config, sc)) {
      for (const p of student.store.params) {
        if (!isHead(p.name) || p.derived || !teacher.store.has(p.name)) continue;
        const t = teacher.store.get(p.name);
        if (t.shape.join() === p.shape.join()) {
          p.data.set(t.data);
          head++;
        }
      }
    }
    info(
      `distill: initialised ${copied.length + head} student tensors from teacher layers ${c.initLayers.join(', ')}` +
        (head ? ` (MLM head included)` : ''),
    );
  }

  // The plan: intermediate matches (TinyBERT's losses; extra terms for DistilBERT).
  const hasMatches = !(Array.isArray(c.config.intermediate) && c.config.intermediate.length === 0);
  let plan: ResolvedPlan | undefined;
  if (!distilbert || hasMatches) {
    plan = resolveMapping({ ...c.config, predictionWeight: 0 }, tc, sc, 'distill config');
    info(
      describePlan(plan).replace(
        /\nprediction layer: .*$/,
        '\nprediction layer: none (general distillation)',
      ),
    );
  }
  const useCos = !!distilbert && distilbert.alphaCos > 0;
  if (distilbert) {
    if (useCos && tc.hidden_size !== sc.hidden_size)
      throw new UserError(
        `--method distilbert: the cosine loss on the last hidden states needs equal widths (teacher ${tc.hidden_size}, student ${sc.hidden_size}); set --alpha-cos 0 or use --method tinybert, which learns a projection`,
      );
    const d = distilbert;
    if (d.alphaCe + d.alphaMlm + d.alphaCos === 0 && !plan)
      throw new UserError(
        '--method distilbert: nothing to distil (alpha-ce, alpha-mlm and alpha-cos are all 0)',
      );
    info(
      `distilbert: L = ${d.alphaCe} * L_ce (T = ${d.temperature}, ${d.positions === 'masked' ? 'masked positions' : 'all non-padding positions'}) + ` +
        `${d.alphaMlm} * L_mlm + ${d.alphaCos} * L_cos (last hidden states)`,
    );
  }

  // Data.
  const tok = student.tokenizer;
  const { sampler, micro, updates, digest } = await openCorpus('distill', c, tok);
  const masking = randomRangeFor(student, c.masking);
  if (distilbert) {
    const rows =
      distilbert.positions === 'all' ? micro * c.seqLen : Math.ceil(micro * c.seqLen * masking.probability);
    const gb = (5 * rows * sc.vocab_size * 4) / 2 ** 30;
    info(
      `distilbert: L_ce over about ${rows.toLocaleString()} rows x ${sc.vocab_size.toLocaleString()} words per micro-batch (~${gb.toFixed(2)} GiB of (rows, V) buffers)`,
    );
  }

  // Batches: the student's and the teacher's inputs, then the teacher's outputs for the student.
  const tFwd = (await teacherStates(
    teacher,
    plan?.matches ?? [],
    c.threads,
    distilbert
      ? (g, w, out) => {
          const res: Record<string, Value> = {};
          const positions = g.input('distil_positions', 'int64', ['K']);
          const head = mlmHead(w, tc, out, positions);
          const t = teacherSoftTargets(head.h, head.table, head.bias, distilbert.temperature);
          res.teacher_probs = t.probs;
          res.teacher_neg_entropy = t.negEntropy;
          if (useCos) res.teacher_sequence = out.sequence;
          return res;
        }
      : undefined,
  ))!;
  const prepare = async (seqs: readonly Sequence[], seed: number, k: number): Promise<Prepared> => {
    let feeds: Record<string, Tensor | BigInt64Array>;
    let sizes: Record<string, number>;
    let masked = 0;
    if (distilbert) {
      const b = maskBatch(seqs, masking, tok, seed, k);
      let positions = b.mlm_positions;
      let labels = b.mlm_labels;
      if (distilbert.positions === 'all') {
        const target = new Map<bigint, bigint>();
        b.mlm_positions.forEach((p, i) => target.set(p, b.mlm_labels[i]));
        const all: bigint[] = [];
        b.attention_mask.forEach((m, i) => {
          if (m) all.push(BigInt(i));
        });
        positions = BigInt64Array.from(all);
        labels = BigInt64Array.from(all, (p) => target.get(p) ?? -100n);
      }
      const { input_ids, token_type_ids, position_ids, attention_mask } = b;
      feeds = {
        input_ids,
        token_type_ids,
        position_ids,
        attention_mask,
        distil_positions: positions,
        distil_labels: labels,
      };
      sizes = { B: b.B, T: b.T, K: positions.length };
      masked = b.M;
    } else {
      const { B, T, tokens: _, ...plain } = bertFeeds(seqs, tok.padId);
      ({ feeds, sizes } = { feeds: plain, sizes: { B, T } });
    }
    Object.assign(feeds, await tFwd.run(feeds, sizes));
    let tokens = 0;
    const mask = feeds.attention_mask as BigInt64Array;
    for (let i = 0; i < mask.length; i++) tokens += Number(mask[i]);
    return { feeds, sizes, tokens, masked };
  };

  // The student's graph: every loss term named and logged, their weighted sum the loss.
  const intermediate = plan ? intermediateTerms(tc, plan) : undefined;
  const build = (g: Graph, w: Weights, drop: Dropout) => {
    const x = bertInputs(g);
    const out = encoder(w, sc, x, drop);
    const s = { g, w, config: sc, x, out, drop };
    const terms: LossTerm[] = [];
    let fused: LossTerm | undefined;
    const extra: Record<string, Value> = {};
    if (distilbert) {
      const positions = g.input('distil_positions', 'int64', ['K']);
      const labels = g.input('distil_labels', 'int64', ['K']);
      const probs = g.input('teacher_probs', 'float32', ['K', sc.vocab_size]);
      const negEntropy = g.input('teacher_neg_entropy', 'float32', ['K']);
      const head = mlmHead(w, sc, out, positions);
      const r = distilMlmLoss(head.h, head.table, head.bias, labels, probs, negEntropy, {
        temperature: distilbert.temperature,
        ceWeight: distilbert.alphaCe,
        mlmWeight: distilbert.alphaMlm,
      });
      // L_ce and L_mlm over one decoder pass, weighted inside: logged as parts, summed last.
      terms.push({ name: 'loss_ce', value: r.ce }, { name: 'loss_mlm', value: r.mlm });
      fused = { value: r.loss, weight: 1 };
      extra.mlm_correct = o.reduceSum(o.cast(o.equal(o.argMax(r.logits, -1), labels), 'float32'), [0]); // ignored rows (label -100) never match
      if (useCos) {
        const tSeq = g.input('teacher_sequence', 'float32', ['B*T', tc.hidden_size]);
        const value = cosineLoss(out.sequence, tSeq, tokenMask(x.attentionMask));
        terms.push({ name: 'loss_cos', value, weight: distilbert.alphaCos });
      }
    }
    if (intermediate) terms.push(...intermediate(s));
    if (fused) terms.push(fused);
    const { loss, logged } = sumTerms(g, terms);
    if (!loss) throw new UserError('distill: no loss terms (check "intermediate" in the distill config)');
    return { loss, terms: logged, extra };
  };

  if (plan) initProjections(student.store, plan, c.seed, sc.initializer_range);
  const step = await TrainStep.create(
    (g, w, drop) => {
      const b = build(g, w, drop);
      return { loss: b.loss, outputs: b.terms };
    },
    student.store,
    { seed: c.seed, threads: c.threads },
  );
  const termNames = step.graph.outputs.map((v) => v.name).filter((n) => n.startsWith('loss_'));

  // Validation: the same loss terms (no dropout) on fixed, deterministically masked validation windows.
  let evaluate: (() => Promise<Record<string, number>>) | undefined;
  let evalFwd: Forward | undefined;
  if (c.valid) {
    const valid = await corpusTokens(c.valid, tok, c.cacheDir);
    const vs = new SequenceSampler(valid.tokens, c.seqLen, c.seed, tok);
    evalFwd = await Forward.create(
      (g, w) => {
        const b = build(g, w, new Dropout(false));
        return { loss: b.loss, ...b.terms, ...b.extra };
      },
      student.store,
      { threads: c.threads },
    );
    const n = Math.min(c.validSequences, vs.windowsPerEpoch);
    const fwd = evalFwd;
    evaluate = async () => {
      const sums: Record<string, number> = {};
      let seqCount = 0;
      let correct = 0;
      let masked = 0;
      for (let i = 0; i < n; i += micro) {
        const seqs: Sequence[] = [];
        for (let j = i; j < Math.min(n, i + micro); j++) seqs.push(vs.sequence(j));
        const b = await prepare(seqs, c.seed + 1, i);
        const out = await fwd.run(b.feeds, b.sizes);
        for (const k of ['loss', ...termNames])
          sums[`valid_${k}`] = (sums[`valid_${k}`] ?? 0) + Number(out[k].data[0]) * seqs.length;
        seqCount += seqs.length;
        if (distilbert) {
          correct += Number(out.mlm_correct.data[0]);
          masked += b.masked;
        }
      }
      const res = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / seqCount]));
      if (distilbert) res.valid_mlm_accuracy = correct / Math.max(1, masked);
      return res;
    };
  }

  ensureDir(c.out);
  const evals: Record<string, number>[] = [];
  const fresh = !c.resume || !latestCheckpoint(join(c.out, 'checkpoints'));
  if (evaluate && fresh) {
    const before = await evaluate();
    evals.push({ update: 0, ...before });
    new JsonLog(join(c.out, 'log.jsonl')).write({ event: 'eval', update: 0, ...before });
    info(
      `distill ${c.method}: before training ${Object.entries(before)
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join('  ')}`,
    );
  }
  const result = await runTraining({
    onStart: () =>
      writeFileAtomic(
        join(c.out, 'distill_config.json'),
        `${JSON.stringify({ mode: 'general', ...c, plan, teacherConfig: tc, studentConfig: sc }, null, 2)}\n`,
      ),
    label: `distill ${c.method}`,
    out: c.out,
    step,
    store: student.store,
    optim: { ...DEFAULT_ADAMW, lr: c.lr, weightDecay: c.weightDecay, clipNorm: c.clipNorm },
    schedule: lrSchedule(updates, c.warmup, c.decay),
    accumulation: c.accumulation,
    batch: async (k): Promise<Batch> => {
      const b = await prepare(sampler.batch(k, micro), c.seed, k);
      return { feeds: b.feeds, sizes: b.sizes, tokens: b.tokens };
    },
    evaluate,
    evalEvery: c.evalEvery,
    checkpointEvery: c.checkpointEvery,
    resume: c.resume,
    logOutputs: termNames,
    recipe: {
      teacher: basename(c.teacher),
      corpus: basename(c.corpus),
      corpusDigest: digest,
      seed: c.seed,
      seqLen: c.seqLen,
      batchSize: c.batchSize,
      masking: c.masking,
      method: c.method,
      distilbert: c.method === 'distilbert' ? c.distilbert : null,
      distill: c.config,
    },
    settingNames: GENERAL_DISTILL_SETTING_NAMES,
  });
  await step.release();
  await tFwd.release();
  await evalFwd?.release();
  student.store.remove((n) => n.startsWith('distill.'));
  saveModel(c.out, student);
  info(`distill: student written to ${c.out}`);
  return {
    method: c.method,
    out: c.out,
    updates,
    tokensPerSecond: result.tokensPerSecond,
    evals: [...evals, ...result.evals],
  };
}
