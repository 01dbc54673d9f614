/**
 * Distilling an ensemble (Hinton, Vinyals and Dean 2015, the paper's first use of soft targets): several
 * fine-tuned teachers' soft targets are averaged into one target for the student. Classification: the mean
 * of the teachers' softmaxes at the distillation temperature T, written back as logits (T log p), so the
 * student's loss, which reads teacher logits at T, sees exactly that mean. Regression: the mean prediction.
 */

/** Smallest probability kept: log(0) would put -Infinity, and 0 * -Infinity = NaN, into the loss. */
const P_MIN = 1e-30;

/**
 * One row-major (examples x labels) logit array per teacher, combined: softmax(result / T) is the mean of
 * softmax(member / T) over the members (classification), or the result is their mean (regression).
 */
export function ensembleLogits(
  members: readonly Float32Array[],
  numLabels: number,
  temperature: number,
  regression: boolean,
): Float32Array {
  if (!members.length) throw new Error('ensembleLogits: no members');
  const n = members[0].length;
  if (members.some((m) => m.length !== n) || n % numLabels !== 0)
    throw new Error(
      `ensembleLogits: members of lengths ${members.map((m) => m.length).join(', ')}, ${numLabels} labels`,
    );
  const out = new Float32Array(n);
  if (regression) {
    for (let i = 0; i < n; i++) out[i] = members.reduce((a, m) => a + m[i], 0) / members.length;
    return out;
  }
  const p = new Float64Array(numLabels);
  const e = new Float64Array(numLabels);
  for (let r = 0; r < n; r += numLabels) {
    p.fill(0);
    for (const m of members) {
      let max = -Infinity;
      for (let j = 0; j < numLabels; j++) max = Math.max(max, m[r + j] / temperature);
      let sum = 0;
      for (let j = 0; j < numLabels; j++) sum += e[j] = Math.exp(m[r + j] / temperature - max);
      for (let j = 0; j < numLabels; j++) p[j] += e[j] / sum / members.length;
    }
    for (let j = 0; j < numLabels; j++) out[r + j] = temperature * Math.log(Math.max(p[j], P_MIN));
  }
  return out;
}
