/**
 * Dynamic BERT masking: for every batch, choose positions to predict and corrupt them, from an RNG
 * keyed by (seed, step) alone, so that a resumed run masks bit-exactly like an uninterrupted one.
 *
 * Per sequence (as in Google's `create_pretraining_data.py`):
 * - Candidates are the real tokens other than [CLS], [SEP], [PAD] and [MASK].
 * - The budget is `round(probability * candidates)`, at least 1 when there is a candidate.
 * - Without whole-word masking, exactly `budget` candidates are chosen uniformly.
 * - With whole-word masking, candidates are grouped into words (a word-start piece and the continuation
 *   pieces after it; continuation pieces at the start of a sequence, cut off from their word, form a
 *   word of their own). Words are visited in a random order and taken whole while they fit in the
 *   budget; a word that would overflow it is skipped. If no word fits (every word is longer than the
 *   budget), the first word in the random order is taken anyway, so at least one word is predicted.
 * - Each chosen position independently becomes [MASK] with probability `maskFraction`, a random id from
 *   `randomRange` with probability `randomFraction`, and is left unchanged otherwise.
 */
import { UserError } from '../util/errors.js';
import { bertFeeds } from '../data/batch.js';
import { deriveSeed, Rng } from '../util/rng.js';

export interface MaskingConfig {
  /** Fraction of candidate tokens to predict (BERT: 0.15). */
  probability: number;
  /** Fraction of predicted tokens replaced by [MASK] (BERT: 0.8). */
  maskFraction: number;
  /** Fraction of predicted tokens replaced by a random token (BERT: 0.1); the rest are left unchanged. */
  randomFraction: number;
  /** Choose whole words (all their pieces together) instead of single pieces. */
  wholeWord: boolean;
  /**
   * Ids `[lo, hi)` random replacements are drawn from. Default `[999, vocabSize)`: in the BERT vocabulary,
   * everything after [PAD], the [unusedN] tokens, [UNK], [CLS], [SEP] and [MASK].
   */
  randomRange?: readonly [number, number];
}

export const BERT_MASKING: Readonly<MaskingConfig> = {
  probability: 0.15,
  maskFraction: 0.8,
  randomFraction: 0.1,
  wholeWord: false,
};

/** First id of the ordinary tokens in the BERT vocabularies. */
export const BERT_FIRST_ORDINARY_ID = 999;

export interface MlmBatch {
  /** (B, T) row-major. */
  input_ids: BigInt64Array;
  token_type_ids: BigInt64Array;
  position_ids: BigInt64Array;
  attention_mask: BigInt64Array;
  /** (M) flat indices `b*T + t` of the predicted positions, ascending. */
  mlm_positions: BigInt64Array;
  /** (M) original token ids at those positions. */
  mlm_labels: BigInt64Array;
  B: number;
  T: number;
  M: number;
}

export interface MaskInput {
  /** Token ids with [CLS]/[SEP] (plain ids, without a word-start bit). */
  ids: Int32Array | Uint16Array;
  /** 1 where the piece starts a word. */
  wordStart: Uint8Array;
}

export interface MaskTokens {
  clsId: number;
  sepId: number;
  padId: number;
  maskId: number;
  vocabSize: number;
}

function checkConfig(cfg: MaskingConfig, tok: MaskTokens): [number, number] {
  const frac = (name: string, v: number) => {
    if (!(typeof v === 'number' && v >= 0 && v <= 1)) {
      throw new UserError(`masking ${name}: must be a number in [0, 1], got ${v}`);
    }
  };
  frac('probability', cfg.probability);
  frac('maskFraction', cfg.maskFraction);
  frac('randomFraction', cfg.randomFraction);
  if (cfg.maskFraction + cfg.randomFraction > 1 + 1e-12) {
    throw new UserError(
      `masking: maskFraction + randomFraction must be <= 1, got ${cfg.maskFraction} + ${cfg.randomFraction}`,
    );
  }
  const [lo, hi] = cfg.randomRange ?? [BERT_FIRST_ORDINARY_ID, tok.vocabSize];
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > tok.vocabSize || lo >= hi) {
    throw new UserError(
      `masking randomRange: must be integers 0 <= lo < hi <= vocabSize (${tok.vocabSize}), got [${lo}, ${hi})` +
        (cfg.randomRange ? '' : '; set randomRange for a vocabulary this small'),
    );
  }
  return [lo, hi];
}

/**
 * Masks a batch of sequences for step `step`: pads them to the longest with [PAD] (attention mask 0),
 * chooses and corrupts the positions to predict (see the module comment) and returns the model inputs.
 * Type ids are all 0 and position ids 0..T-1. The result depends only on the inputs, `seed` and `step`.
 */
export function maskBatch(
  sequences: readonly MaskInput[],
  cfg: MaskingConfig,
  tok: MaskTokens,
  seed: number,
  step: number,
): MlmBatch {
  const [lo, hi] = checkConfig(cfg, tok);
  const B = sequences.length;
  let T = 0;
  for (let b = 0; b < B; b++) {
    const s = sequences[b];
    if (s.wordStart.length !== s.ids.length) {
      throw new RangeError(`sequence ${b}: ${s.ids.length} ids but ${s.wordStart.length} word-start flags`);
    }
    for (let t = 0; t < s.ids.length; t++) {
      const id = s.ids[t];
      if (!Number.isInteger(id) || id < 0 || id >= tok.vocabSize) {
        throw new RangeError(`sequence ${b}, position ${t}: id ${id} is outside the vocabulary`);
      }
    }
    T = Math.max(T, s.ids.length);
  }
  const { input_ids, token_type_ids, position_ids, attention_mask } = bertFeeds(sequences, tok.padId);

  const rng = new Rng(deriveSeed(seed, 'MLMM', step));
  const positions: number[] = [];
  const labels: number[] = [];
  const cand: number[] = []; // candidate positions of the current sequence
  const groupStart: number[] = []; // start index into `cand` of each word, plus an end sentinel
  const chosen = new Uint8Array(T);
  const tMaskRandom = cfg.maskFraction + cfg.randomFraction;

  for (let b = 0; b < B; b++) {
    const { ids, wordStart } = sequences[b];
    const n = ids.length;
    const row = b * T;
    cand.length = 0;
    groupStart.length = 0;
    let prevCand = -2;
    for (let t = 0; t < n; t++) {
      const id = ids[t];
      if (id === tok.clsId || id === tok.sepId || id === tok.padId || id === tok.maskId) continue;
      if (wordStart[t] !== 0 || prevCand !== t - 1) groupStart.push(cand.length);
      cand.push(t);
      prevCand = t;
    }
    if (cand.length === 0) continue;
    const budget = Math.max(1, Math.round(cfg.probability * cand.length));
    chosen.fill(0, 0, n);

    if (!cfg.wholeWord) {
      // Partial Fisher-Yates: the first `budget` entries become a uniform sample.
      for (let i = 0; i < budget; i++) {
        const j = i + rng.int(cand.length - i);
        const x = cand[j];
        cand[j] = cand[i];
        cand[i] = x;
        chosen[x] = 1;
      }
    } else {
      const words = groupStart.length;
      groupStart.push(cand.length);
      const order = new Int32Array(words);
      for (let i = 0; i < words; i++) order[i] = i;
      for (let i = words - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const x = order[i];
        order[i] = order[j];
        order[j] = x;
      }
      let taken = 0;
      for (let k = 0; k < words && taken < budget; k++) {
        const w = order[k];
        const len = groupStart[w + 1] - groupStart[w];
        if (taken + len > budget) continue;
        for (let i = groupStart[w]; i < groupStart[w + 1]; i++) chosen[cand[i]] = 1;
        taken += len;
      }
      if (taken === 0) {
        const w = order[0];
        for (let i = groupStart[w]; i < groupStart[w + 1]; i++) chosen[cand[i]] = 1;
      }
    }

    for (let t = 0; t < n; t++) {
      if (chosen[t] === 0) continue;
      positions.push(row + t);
      labels.push(ids[t]);
      const u = rng.uniform();
      if (u < cfg.maskFraction) input_ids[row + t] = BigInt(tok.maskId);
      else if (u < tMaskRandom) input_ids[row + t] = BigInt(lo + rng.int(hi - lo));
    }
  }

  const M = positions.length;
  const mlm_positions = new BigInt64Array(M);
  const mlm_labels = new BigInt64Array(M);
  for (let i = 0; i < M; i++) {
    mlm_positions[i] = BigInt(positions[i]);
    mlm_labels[i] = BigInt(labels[i]);
  }
  return {
    input_ids,
    token_type_ids,
    position_ids,
    attention_mask,
    mlm_positions,
    mlm_labels,
    B,
    T,
    M,
  };
}
