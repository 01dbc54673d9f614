/** The training graph of a task head: the model's logits and their loss. Browser-safe. */
import type { Graph } from '../graph/graph.js';
import { hintonLoss, mse, softmaxCrossEntropy } from '../graph/losses.js';
import * as o from '../graph/ops.js';
import { bertInputs, classifier, encoder } from '../model/bert.js';
import type { BertConfig } from '../model/config.js';
import type { Dropout } from '../runtime/dropout.js';
import type { Weights } from '../runtime/weights.js';
import type { BuildStep } from './step.js';

/** Distillation from soft targets: Hinton's loss at temperature T, alpha on the soft part. */
export interface SoftTargetLoss {
  temperature: number;
  alpha: number;
}

/**
 * Logits (B, numLabels); loss is cross-entropy, or MSE on the single output for regression. A K-BERT model
 * (config.knowledge) reads a (B, T, T) visible matrix as its attention mask and soft position ids. With
 * `soft`, the graph also reads a teacher's logits (`teacher_logits`, B x numLabels) and the loss is
 * Hinton's: alpha on the soft targets, 1 - alpha on the labels.
 */
export function headGraph(
  c: BertConfig,
  numLabels: number,
  regression: boolean,
  soft?: SoftTargetLoss,
): BuildStep {
  return (g: Graph, w: Weights, drop: Dropout) => {
    const x = bertInputs(g, !!c.knowledge, !!c.ngram); // a hybrid also reads its n-gram features
    const logits = classifier(w, c, encoder(w, c, x, drop), numLabels, drop, x.ngram);
    const labels = g.input('labels', regression ? 'float32' : 'int64', ['B']);
    if (soft) {
      const teacher = g.input('teacher_logits', 'float32', ['B', numLabels]);
      return { loss: hintonLoss(logits, teacher, labels, soft.temperature, soft.alpha, regression).loss };
    }
    const loss = regression ? mse(o.reshape(logits, ['B']), labels) : softmaxCrossEntropy(logits, labels);
    return { loss };
  };
}
