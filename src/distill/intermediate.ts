/**
 * What task and corpus (general) distillation share: TinyBERT's intermediate-layer terms of a student
 * encoder (a loss-term source, loss-terms.ts) and the teacher states they are matched against, and the
 * initialisation of the learned width projections.
 */
import type { Graph, Value } from '../graph/graph.js';
import { bertInputs, encoder, type EncoderOutput } from '../model/bert.js';
import type { BertConfig } from '../model/config.js';
import type { Model } from '../model/io.js';
import { Dropout } from '../runtime/dropout.js';
import { Forward } from '../runtime/forward.js';
import type { ParamStore } from '../runtime/params.js';
import type { Weights } from '../runtime/weights.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { attentionMse, cosineLoss, hiddenMse, tokenMask } from './kd-losses.js';
import type { LossTerm, TermSource } from './loss-terms.js';
import type { ResolvedMatch, ResolvedPlan } from './mapping.js';

/** Name of the graph input that feeds the teacher state a match needs into the student graph. */
export const featureInput = (m: ResolvedMatch) => `teacher_${m.feature}_${m.teacherLayer}`;

function studentState(out: EncoderOutput, m: ResolvedMatch): Value {
  if (m.feature === 'embedding') return out.embeddings;
  return m.feature === 'hidden' ? out.hidden[m.studentLayer - 1] : out.scores[m.studentLayer - 1];
}

function teacherState(out: EncoderOutput, m: ResolvedMatch): Value {
  if (m.feature === 'embedding') return out.embeddings;
  return m.feature === 'hidden' ? out.hidden[m.teacherLayer - 1] : out.scores[m.teacherLayer - 1];
}

/**
 * TinyBERT's intermediate-layer terms (docs/methods.md §4.2) of a student encoder output, one per match of the
 * plan: embedding and hidden MSE (through the learned projection where widths differ), cosine where the
 * match says so, attention-score MSE (head-averaged where head counts differ). The teacher states are
 * graph inputs named by featureInput, fed per batch from teacherStates. Terms are named
 * `loss_<feature>_s<student layer>_t<teacher layer>`.
 */
export function intermediateTerms(teacher: BertConfig, plan: ResolvedPlan): TermSource {
  return ({ g, w, x, out }) => {
    const mask = tokenMask(x.attentionMask);
    const inputs = new Map<string, Value>();
    return plan.matches.map((m): LossTerm => {
      const tShape =
        m.feature === 'attention'
          ? ['B', teacher.num_attention_heads, 'T', 'T']
          : ['B*T', teacher.hidden_size];
      const name = featureInput(m);
      const tv = inputs.get(name) ?? g.input(name, 'float32', tShape);
      inputs.set(name, tv);
      const sv = studentState(out, m);
      const term = `loss_${m.feature}_s${m.studentLayer}_t${m.teacherLayer}`;
      if (m.feature === 'attention')
        return {
          name: term,
          value: attentionMse(sv, tv, x.attentionMask, !!m.headAverage),
          weight: m.weight,
        };
      if (m.loss === 'cosine') return { name: term, value: cosineLoss(sv, tv, mask), weight: m.weight };
      const p = m.projection;
      const proj = p
        ? { W: w.get(p.name, [p.to, p.from], 'normal'), b: w.get(p.bias, [p.to], 'zeros') }
        : null;
      return { name: term, value: hiddenMse(sv, tv, mask, proj), weight: m.weight };
    });
  };
}

/**
 * A forward session of the teacher (no dropout) that returns the states the matches need, keyed by
 * featureInput, for the batch's BERT inputs, plus whatever `extra` builds on the same teacher pass
 * (general distillation's soft targets); undefined when there is nothing to compute.
 */
export async function teacherStates(
  teacher: Model,
  matches: ResolvedMatch[],
  threads: number,
  extra?: (g: Graph, w: Weights, out: EncoderOutput) => Record<string, Value>,
): Promise<Forward | undefined> {
  if (!matches.length && !extra) return undefined;
  return Forward.create(
    (g, w) => {
      const out = encoder(w, teacher.config, bertInputs(g), new Dropout(false));
      return {
        ...Object.fromEntries(matches.map((m) => [featureInput(m), teacherState(out, m)])),
        ...extra?.(g, w, out),
      };
    },
    teacher.store,
    { threads },
  );
}

/**
 * The learned width projections (distill.fit_dense*) start as BERT initialises a linear layer: normal(0,
 * std) weights, zero bias. Declared here, before the graph is built, because parameters first declared
 * while building a graph over a loaded store would stay at zero.
 */
export function initProjections(store: ParamStore, plan: ResolvedPlan, seed: number, std: number): void {
  const rng = new Rng(deriveSeed(seed, 'PROJ'));
  for (const p of plan.projections) {
    const W = store.declare(p.name, [p.to, p.from], 'normal');
    for (let i = 0; i < W.data.length; i++) W.data[i] = rng.normal() * std;
    store.declare(p.bias, [p.to], 'zeros');
  }
}
