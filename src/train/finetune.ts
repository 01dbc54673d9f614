/**
 * Fine-tuning of a classification or regression head (and the encoder) on a task: dynamic padding per
 * batch, seeded per-epoch shuffles (batches are a pure function of the step, so --resume is bit-exact),
 * the task's metrics on the dev split after every epoch.
 */
import { join } from 'node:path';
import { type DataSource, encodeAll, epochBatches, padBatch, readTask } from '../data/task.js';
import type { TaskMetrics } from '../eval/glue-score.js';
import { reportedMetrics } from '../eval/task-metrics.js';
import type { Graph } from '../graph/graph.js';
import { mse, softmaxCrossEntropy } from '../graph/losses.js';
import * as o from '../graph/ops.js';
import { evaluateOn } from '../infer/evaluate.js';
import { bertInputs, classifier, encoder } from '../model/bert.js';
import { loadModel, type Model, saveModel } from '../model/io.js';
import type { Dropout } from '../runtime/dropout.js';
import { DEFAULT_ADAMW } from '../runtime/optim.js';
import type { Weights } from '../runtime/weights.js';
import { ensureDir, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { info } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { runTraining } from './loop.js';
import { TrainStep } from './step.js';

/** Logits (B, numLabels); loss is cross-entropy, or MSE on the single output for regression. */
function headGraph(m: Model, numLabels: number, regression: boolean) {
  return (g: Graph, w: Weights, drop: Dropout) => {
    const logits = classifier(w, m.config, encoder(w, m.config, bertInputs(g), drop), numLabels, drop);
    const labels = g.input('labels', regression ? 'float32' : 'int64', ['B']);
    const loss = regression ? mse(o.reshape(logits, ['B']), labels) : softmaxCrossEntropy(logits, labels);
    return { loss, logits };
  };
}

export interface FinetuneConfig {
  out: string;
  epochs: number;
  batchSize: number;
  lr: number;
  warmup: number; // fraction of updates
  weightDecay: number;
  clipNorm: number;
  maxLength: number;
  dropout?: number; // override the model's dropout
  seed: number;
  threads: number;
  resume: boolean;
  checkpointEvery: number;
}

export interface FinetuneResult {
  task: string;
  metrics: TaskMetrics;
  score: number;
  perEpoch: Record<string, number>[];
  tokensPerSecond: number;
  trainExamples: number;
  devExamples: number;
}

/** Fine-tune `modelDir` on `src` (train split) and evaluate on its dev split (or `dev` source). */
export async function finetune(
  modelDir: string,
  src: DataSource,
  dev: DataSource | undefined,
  c: FinetuneConfig,
): Promise<FinetuneResult> {
  const train = readTask(src, 'train');
  const devData = dev ? readTask(dev, 'dev') : readTask(src, 'dev');
  const regression = train.labels === null;
  const numLabels = regression ? 1 : train.labels!.length;
  if (train.examples.length === 0) throw new UserError(`${train.file}: no training examples`);
  const m = loadModel(modelDir, { numLabels, rng: new Rng(c.seed) });
  if (c.dropout !== undefined) {
    m.config.hidden_dropout_prob = c.dropout;
    m.config.attention_probs_dropout_prob = c.dropout;
  }
  m.config.num_labels = numLabels;
  m.config.problem_type = regression ? 'regression' : 'single_label_classification';
  if (train.labels) m.config.id2label = Object.fromEntries(train.labels.map((l, i) => [String(i), l]));
  m.config.finetuning_task = train.task;
  const maxLength = Math.min(c.maxLength, m.config.max_position_embeddings);
  const items = encodeAll(m.tokenizer, train.examples, maxLength);
  const devItems = encodeAll(m.tokenizer, devData.examples, maxLength);
  const { stepsPerEpoch, indicesOf } = epochBatches(items.length, c.batchSize, c.seed);
  const updates = stepsPerEpoch * c.epochs;
  info(
    `finetune ${train.task}: ${items.length} train / ${devItems.length} dev examples, ${c.epochs} epochs x ${stepsPerEpoch} steps`,
  );
  const evaluate = () => evaluateOn(m, train, devItems, numLabels, c.threads);
  const step = await TrainStep.create(headGraph(m, numLabels, regression), m.store, {
    seed: c.seed,
    threads: c.threads,
  });
  ensureDir(c.out);
  writeFileAtomic(
    join(c.out, 'finetune_config.json'),
    `${JSON.stringify({ ...c, src, dev, model: modelDir }, null, 2)}\n`,
  );
  const result = await runTraining({
    label: `finetune ${train.task}`,
    out: c.out,
    step,
    store: m.store,
    optim: { ...DEFAULT_ADAMW, lr: c.lr, weightDecay: c.weightDecay, clipNorm: c.clipNorm },
    schedule: { warmupSteps: Math.round(c.warmup * updates), totalSteps: updates, decay: 'linear' },
    accumulation: 1,
    batch: (k) =>
      padBatch(
        indicesOf(k).map((j) => items[j]),
        regression,
        m.tokenizer.padId,
      ),
    evaluate: devItems.length ? evaluate : undefined,
    evalEvery: stepsPerEpoch,
    checkpointEvery: c.checkpointEvery,
    resume: c.resume,
  });
  await step.release();
  saveModel(c.out, m);
  const last = result.evals[result.evals.length - 1] ?? {};
  const metrics = reportedMetrics(train, last);
  const res: FinetuneResult = {
    task: train.task,
    metrics,
    score: last.score ?? Number.NaN,
    perEpoch: result.evals,
    tokensPerSecond: result.tokensPerSecond,
    trainExamples: items.length,
    devExamples: devItems.length,
  };
  writeFileAtomic(join(c.out, 'eval_results.json'), `${JSON.stringify(res, null, 2)}\n`);
  return res;
}
