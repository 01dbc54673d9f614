/**
 * The pick: of the finished stages that made a candidate, the best dev score among those whose int8 file
 * fits --max-bytes (a tie goes to the smaller file), and a plain sentence saying what won.
 */
import { UserError } from '../util/errors.js';
import type { StageResult } from './stage.js';

/** A finished candidate stage: its result with a score and a candidate. */
export type CandidateResult = StageResult & Required<Pick<StageResult, 'score' | 'candidate'>>;

export interface PickResult {
  winner: CandidateResult;
  /** The n-gram baseline's result, when it ran. */
  baseline?: CandidateResult;
  /** One sentence for the user: what ships, and why. */
  message: string;
}

export function isCandidate(r: StageResult): r is CandidateResult {
  return r.candidate !== undefined && typeof r.score === 'number' && Number.isFinite(r.score);
}

const points = (x: number) => x.toFixed(2);

/** Pick among `results` (stages without a candidate are ignored). */
export function pick(results: Iterable<StageResult>, maxBytes: number): PickResult {
  const all = [...results].filter(isCandidate);
  const fits = all.filter((r) => r.candidate.int8.bytes <= maxBytes);
  if (fits.length === 0)
    throw new UserError(
      `fit: no candidate with an int8 file within --max-bytes ${maxBytes}${all.length ? ` (smallest: ${Math.min(...all.map((r) => r.candidate.int8.bytes))} bytes)` : ''}`,
    );
  const winner = fits.reduce((a, b) =>
    b.score > a.score || (b.score === a.score && b.candidate.int8.bytes < a.candidate.int8.bytes) ? b : a,
  );
  const baseline = all.find((r) => r.stage === 'baseline') ?? all.find((r) => r.candidate.kind === 'ngram');
  // An n-gram winner other than the plain baseline (baseline-pairs: it also reads pair similarity).
  const ngramName = winner.stage === 'baseline' ? 'the n-gram baseline' : `the n-gram model ${winner.stage}`;
  const transformers = fits.filter((r) => r.candidate.kind !== 'ngram');
  let message: string;
  if (winner.candidate.kind === 'ngram')
    message =
      transformers.length === 0
        ? `no tiny transformer was fine-tuned (none fits --max-bytes, or the budget was spent): shipping ${ngramName}`
        : transformers.some((t) => t.score === winner.score)
          ? `${ngramName} ties the best tiny transformer on this data and is smaller: shipping it`
          : `${ngramName} beats the tiny transformers on this data: shipping it`;
  else if (baseline && baseline.score === winner.score)
    message = `${winner.stage} ties the n-gram baseline (dev ${points(winner.score)}) and is smaller: shipping it`;
  else
    message = baseline
      ? `${winner.stage} beats the n-gram baseline (dev ${points(winner.score)} against ${points(baseline.score)}): shipping it`
      : `${winner.stage} has the best dev score (${points(winner.score)}): shipping it`;
  return { winner, baseline, message };
}
