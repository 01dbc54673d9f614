/**
 * A model whose outputs are not numbers (NaN or infinite logits: broken weights, an overflowing export)
 * answers nothing rather than something: predict and eval stop with one line, the server answers 500.
 * Without the check NaN logits became the label "NaN", an eval score of the majority class, and
 * `score: null` from the server. Browser-safe.
 */

/** The index of the first row of `logits` with a value that is not a finite number, or -1. */
export function firstNonFinite(logits: readonly ArrayLike<number>[]): number {
  for (let i = 0; i < logits.length; i++) {
    const row = logits[i];
    for (let j = 0; j < row.length; j++) if (!Number.isFinite(row[j])) return i;
  }
  return -1;
}

/** What to say about it: `MODEL gives NaN for WHERE: its weights or export are broken; ...`. */
export function nonFiniteMessage(model: string, row: ArrayLike<number>, where: string): string {
  const bad = Array.from(row).find((v) => !Number.isFinite(v));
  return `${model}: the model's output is ${bad} for ${where}; its weights or its export are broken (fine-tune or export it again)`;
}
