/**
 * A distillation loss as named terms: one interface for task and corpus distillation. A term source reads
 * the student's graph (its inputs, encoder output, weights) and gives named values with their weights,
 * adding what it needs from the teacher as graph inputs; the loss is the weighted sum of the terms, each
 * logged unweighted under its name. Task distillation's stages (intermediate layers, prediction layer)
 * and corpus distillation's methods (DistilBERT's triple loss, TinyBERT's intermediate layers) are lists
 * of terms from these sources, so a new term is one source, usable by both.
 */
import type { Graph, Value } from '../graph/graph.js';
import * as o from '../graph/ops.js';
import type { BertInputs, EncoderOutput } from '../model/bert.js';
import type { BertConfig } from '../model/config.js';
import type { Dropout } from '../runtime/dropout.js';
import type { Weights } from '../runtime/weights.js';

/** What a term reads: the student's graph, inputs, encoder output and weights. */
export interface StudentGraph {
  g: Graph;
  w: Weights;
  config: BertConfig;
  x: BertInputs;
  out: EncoderOutput;
  drop: Dropout;
}

/**
 * One term: `weight * value` joins the loss; without a weight the value is logged only (the parts of a
 * term, e.g. Hinton's soft and hard losses). Without a name it is not logged (a fused term whose parts
 * are).
 */
export interface LossTerm {
  name?: string;
  value: Value;
  weight?: number;
}

/** A source of loss terms (the teacher states it needs are graph inputs it declares). */
export type TermSource = (s: StudentGraph) => LossTerm[];

/**
 * The loss, `weight * value` summed over the weighted terms in order (undefined when none has a weight),
 * and every named term, unweighted, for the log.
 */
export function sumTerms(g: Graph, terms: LossTerm[]): { loss?: Value; logged: Record<string, Value> } {
  const logged: Record<string, Value> = {};
  let loss: Value | undefined;
  for (const t of terms) {
    if (t.name) logged[t.name] = t.value;
    if (t.weight === undefined) continue;
    const weighted = t.weight === 1 ? t.value : o.mul(t.value, g.scalar(t.weight));
    loss = loss ? o.add(loss, weighted) : weighted;
  }
  return { loss, logged };
}
