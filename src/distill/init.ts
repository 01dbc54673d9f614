/**
 * DistilBERT's student initialisation: copy the teacher's embeddings and a chosen list of its layers
 * (DistilBERT's script takes teacher layers [0, 2, 4, 7, 9, 11] for a 6-layer student). The widths must
 * match; a hash-embedding student keeps its (derived) word embeddings and copies the rest.
 */
import type { BertConfig } from '../model/config.js';
import type { Model } from '../model/io.js';
import { UserError } from '../util/errors.js';

/**
 * The student to distil into: a model directory, or a new model of a preset (`config`: the preset with its
 * --hash / --lowrank-dim settings applied).
 */
export type StudentSpec = { dir: string } | { preset: string; config: BertConfig };

/** `layers[i]` is the 0-based teacher layer copied into student layer i. Returns the copied names. */
export function initFromTeacher(student: Model, teacher: Model, layers: number[]): string[] {
  const s = student.config;
  const t = teacher.config;
  for (const k of ['hidden_size', 'num_attention_heads', 'intermediate_size'] as const) {
    if (s[k] !== t[k]) {
      throw new UserError(
        `init from teacher: ${k} differs (teacher ${t[k]}, student ${s[k]}); layer copying needs equal widths (use a projection-based distillation instead)`,
      );
    }
  }
  if (layers.length !== s.num_hidden_layers) {
    throw new UserError(
      `init from teacher: ${layers.length} teacher layers given for a ${s.num_hidden_layers}-layer student`,
    );
  }
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= t.num_hidden_layers) {
      throw new UserError(
        `init from teacher: teacher layer ${l} out of range 0..${t.num_hidden_layers - 1} (0-based)`,
      );
    }
  }
  const copied: string[] = [];
  const copy = (from: string, to: string) => {
    if (!teacher.store.has(from) || !student.store.has(to)) return;
    const a = teacher.store.get(from);
    const b = student.store.get(to);
    if (b.derived) return;
    if (a.shape.join() !== b.shape.join()) {
      throw new UserError(`init from teacher: ${from} [${a.shape}] does not fit ${to} [${b.shape}]`);
    }
    b.data.set(a.data);
    copied.push(to);
  };
  for (const p of student.store.names) {
    const m = /^bert\.encoder\.layer\.(\d+)\.(.*)$/.exec(p);
    if (m) copy(`bert.encoder.layer.${layers[Number(m[1])]}.${m[2]}`, p);
    else if (p.startsWith('bert.embeddings.') || p.startsWith('bert.pooler.')) copy(p, p);
  }
  return copied;
}
