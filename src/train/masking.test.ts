/** Dynamic BERT masking: statistics, special tokens, whole words, determinism, padding. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.js';
import { BERT_MASKING, type MaskInput, type MaskingConfig, type MlmBatch, maskBatch } from './masking.js';
import { readVocabFile } from '../text/vocab-file.js';

const VOCAB = fileURLToPath(new URL('../../assets/bert-base-uncased-vocab.txt', import.meta.url));
const tok = readVocabFile(VOCAB);

const TEXT =
  'He was unaffable, and the embeddings gave a hypothermia to the unsuspecting archaeologists. ' +
  'Notwithstanding the incomprehensibility of thermodynamics, the quick brown fox jumps over the lazy dog; ' +
  'photosynthesis, electroencephalography and antidisestablishmentarianism were discussed at length. ' +
  'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness. ';

/** Pieces of TEXT repeated, with word starts from the tokenizer's word ids. */
const STREAM = (() => {
  const { ids, wordIds } = tok.encodePieces(TEXT.repeat(40));
  const starts = wordIds.map((w, i) => (i === 0 || w !== wordIds[i - 1] ? 1 : 0));
  return { ids, starts };
})();

/** `[CLS] pieces [SEP]` sequences of the given piece counts, cut from STREAM starting at `offset`. */
function sequences(lengths: number[], offset = 0): MaskInput[] {
  let at = offset;
  return lengths.map((n) => {
    const ids = new Int32Array(n + 2);
    const wordStart = new Uint8Array(n + 2);
    ids[0] = tok.clsId;
    for (let i = 0; i < n; i++) {
      ids[i + 1] = STREAM.ids[(at + i) % STREAM.ids.length];
      wordStart[i + 1] = STREAM.starts[(at + i) % STREAM.ids.length];
    }
    ids[n + 1] = tok.sepId;
    at += n;
    return { ids, wordStart };
  });
}

const cfg = (over: Partial<MaskingConfig> = {}): MaskingConfig => ({
  ...BERT_MASKING,
  ...over,
});

/** Counts of [MASK] / random / unchanged among the predicted positions. */
function kinds(batch: MlmBatch): {
  mask: number;
  random: number;
  kept: number;
} {
  let mask = 0;
  let random = 0;
  let kept = 0;
  for (let i = 0; i < batch.M; i++) {
    const p = Number(batch.mlm_positions[i]);
    const id = batch.input_ids[p];
    if (id === BigInt(tok.maskId)) mask++;
    else if (id === batch.mlm_labels[i]) kept++;
    else random++;
  }
  return { mask, random, kept };
}

function checkInvariants(batch: MlmBatch, seqs: MaskInput[]): void {
  const { B, T, M } = batch;
  assert.equal(batch.input_ids.length, B * T);
  assert.equal(batch.mlm_positions.length, M);
  assert.equal(batch.mlm_labels.length, M);
  for (let i = 0; i < M; i++) {
    const p = Number(batch.mlm_positions[i]);
    if (i > 0) assert.ok(p > Number(batch.mlm_positions[i - 1]), 'positions ascending');
    const b = Math.floor(p / T);
    const t = p % T;
    const orig = seqs[b].ids[t];
    assert.ok(t < seqs[b].ids.length, 'never a pad position');
    assert.equal(batch.mlm_labels[i], BigInt(orig));
    assert.ok(![tok.clsId, tok.sepId, tok.padId, tok.maskId].includes(orig), 'never a special token');
  }
  // Unselected positions are unchanged.
  const sel = new Set(Array.from(batch.mlm_positions, Number));
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < seqs[b].ids.length; t++) {
      if (!sel.has(b * T + t)) assert.equal(batch.input_ids[b * T + t], BigInt(seqs[b].ids[t]));
    }
  }
}

test('statistics: 15% of real tokens predicted, 80/10/10 [MASK]/random/unchanged', () => {
  let predicted = 0;
  let candidates = 0;
  const total = { mask: 0, random: 0, kept: 0 };
  for (let step = 0; step < 150; step++) {
    const seqs = sequences([126, 126, 126, 126, 126, 126, 126, 126], step * 97);
    const batch = maskBatch(seqs, cfg(), tok, 1234, step);
    checkInvariants(batch, seqs);
    // Per sequence: exactly round(0.15 * 126) = 19.
    for (let b = 0; b < 8; b++) {
      const n = Array.from(batch.mlm_positions, Number).filter((p) => Math.floor(p / batch.T) === b).length;
      assert.equal(n, 19);
    }
    for (let i = 0; i < batch.M; i++) {
      const id = Number(batch.input_ids[Number(batch.mlm_positions[i])]);
      if (id !== tok.maskId && BigInt(id) !== batch.mlm_labels[i]) {
        assert.ok(id >= 999 && id < tok.vocabSize, `random id ${id} in [999, vocabSize)`);
      }
    }
    predicted += batch.M;
    candidates += 8 * 126;
    const k = kinds(batch);
    total.mask += k.mask;
    total.random += k.random;
    total.kept += k.kept;
  }
  assert.ok(Math.abs(predicted / candidates - 0.15) < 0.005, `predicted ${predicted / candidates}`);
  assert.ok(Math.abs(total.mask / predicted - 0.8) < 0.015, `mask ${total.mask / predicted}`);
  assert.ok(Math.abs(total.random / predicted - 0.1) < 0.015, `random ${total.random / predicted}`);
  assert.ok(Math.abs(total.kept / predicted - 0.1) < 0.015, `kept ${total.kept / predicted}`);
});

test('special tokens in the text are never chosen; short sequences get at least one prediction', () => {
  const special = [tok.clsId, tok.sepId, tok.padId, tok.maskId];
  for (let step = 0; step < 300; step++) {
    const ids = Int32Array.from([tok.clsId, 2002, tok.maskId, 2001, tok.sepId, tok.padId, 14477, tok.sepId]);
    const seqs = [{ ids, wordStart: Uint8Array.from([0, 1, 1, 1, 0, 0, 1, 0]) }];
    const batch = maskBatch(seqs, cfg({ wholeWord: step % 2 === 0 }), tok, 5, step);
    checkInvariants(batch, seqs);
    assert.equal(batch.M, 1); // 3 candidates: max(1, round(0.45)) = 1
    const t = Number(batch.mlm_positions[0]);
    assert.ok(!special.includes(ids[t]));
  }
  // Nothing but specials: nothing to predict.
  const only = [
    {
      ids: Int32Array.from([tok.clsId, tok.sepId]),
      wordStart: new Uint8Array(2),
    },
  ];
  assert.equal(maskBatch(only, cfg(), tok, 1, 0).M, 0);
});

test('whole-word masking: words are predicted whole, about 15% of tokens', () => {
  let predicted = 0;
  let candidates = 0;
  let budgets = 0;
  let multiPieceWords = 0;
  for (let step = 0; step < 100; step++) {
    // Start mid-word at times: a leading continuation run is a word of its own.
    const seqs = sequences([126, 100, 126, 60], step * 131 + 1);
    const batch = maskBatch(seqs, cfg({ wholeWord: true }), tok, 99, step);
    checkInvariants(batch, seqs);
    const sel = new Set(Array.from(batch.mlm_positions, Number));
    for (let b = 0; b < seqs.length; b++) {
      const { ids, wordStart } = seqs[b];
      const n = ids.length;
      let chosenHere = 0;
      // Walk the words of the sequence (specials excluded).
      let t = 1;
      while (t < n - 1) {
        let end = t + 1;
        while (end < n - 1 && wordStart[end] === 0) end++;
        const picked = [];
        for (let i = t; i < end; i++) picked.push(sel.has(b * batch.T + i));
        assert.ok(
          picked.every((x) => x) || picked.every((x) => !x),
          `step ${step} seq ${b}: word at ${t}..${end} partly chosen`,
        );
        if (picked[0] && end - t > 1) multiPieceWords++;
        chosenHere += picked.filter((x) => x).length;
        t = end;
      }
      const budget = Math.round(0.15 * (n - 2));
      assert.ok(chosenHere <= budget && chosenHere >= 1, `chosen ${chosenHere}, budget ${budget}`);
      predicted += chosenHere;
      candidates += n - 2;
      budgets += budget;
    }
  }
  assert.ok(multiPieceWords > 50, `multi-piece words chosen: ${multiPieceWords}`);
  // Skipping words that overflow the budget leaves it a little under-filled.
  assert.ok(predicted / budgets > 0.95, `filled ${predicted / budgets} of the budget`);
  assert.ok(Math.abs(predicted / candidates - 0.15) < 0.01, `predicted ${predicted / candidates}`);
});

test('whole-word masking: a word longer than the budget is still taken whole', () => {
  // [CLS] elect ##ro ##ence ##pha ##log ##raphy [SEP]: one word of six pieces, budget 1.
  const { ids: pieces } = tok.encodePieces('electroencephalography');
  assert.ok(pieces.length > 2);
  const ids = Int32Array.from([tok.clsId, ...pieces, tok.sepId]);
  const wordStart = new Uint8Array(ids.length);
  wordStart[1] = 1;
  const batch = maskBatch([{ ids, wordStart }], cfg({ wholeWord: true }), tok, 3, 0);
  assert.equal(batch.M, pieces.length);
});

test('determinism: same (seed, step) gives the same batch; other steps and seeds differ', () => {
  const seqs = sequences([126, 126, 90, 126]);
  for (const wholeWord of [false, true]) {
    const c = cfg({ wholeWord });
    const a = maskBatch(seqs, c, tok, 17, 1000);
    assert.deepEqual(maskBatch(seqs, c, tok, 17, 1000), a);
    const b = maskBatch(seqs, c, tok, 17, 1001);
    assert.notDeepEqual(b.mlm_positions, a.mlm_positions);
    const d = maskBatch(seqs, c, tok, 18, 1000);
    assert.notDeepEqual(d.mlm_positions, a.mlm_positions);
    // Steps beyond 2^32 are keyed too.
    const e = maskBatch(seqs, c, tok, 17, 2 ** 32 + 1000);
    assert.notDeepEqual(e.mlm_positions, a.mlm_positions);
  }
  // Inputs are not modified.
  assert.deepEqual(seqs, sequences([126, 126, 90, 126]));
});

test('unequal lengths are padded with [PAD]; types 0, positions 0..T-1, attention mask on real tokens', () => {
  const lengths = [3, 7, 1];
  const seqs = sequences(lengths);
  const batch = maskBatch(seqs, cfg(), tok, 1, 0);
  checkInvariants(batch, seqs);
  assert.equal(batch.B, 3);
  assert.equal(batch.T, 9);
  for (let b = 0; b < 3; b++) {
    for (let t = 0; t < 9; t++) {
      const i = b * 9 + t;
      const real = t < lengths[b] + 2;
      assert.equal(batch.attention_mask[i], real ? 1n : 0n);
      assert.equal(batch.token_type_ids[i], 0n);
      assert.equal(batch.position_ids[i], BigInt(t));
      if (!real) assert.equal(batch.input_ids[i], BigInt(tok.padId));
    }
  }
  assert.equal(batch.M, 3); // max(1, round(0.15 * n)) for n = 3, 7, 1
});

test('randomRange and fractions are honored; bad configurations are UserErrors', () => {
  const seqs = sequences([126, 126, 126, 126]);
  const batch = maskBatch(
    seqs,
    cfg({ maskFraction: 0, randomFraction: 1, randomRange: [2000, 2010] }),
    tok,
    4,
    2,
  );
  for (let i = 0; i < batch.M; i++) {
    const id = Number(batch.input_ids[Number(batch.mlm_positions[i])]);
    assert.ok(id >= 2000 && id < 2010, `id ${id}`);
  }
  const all = maskBatch(seqs, cfg({ probability: 1, maskFraction: 1, randomFraction: 0 }), tok, 4, 2);
  assert.equal(all.M, 4 * 126);
  assert.equal(kinds(all).mask, all.M);
  const none = maskBatch(seqs, cfg({ maskFraction: 0, randomFraction: 0 }), tok, 4, 2);
  assert.equal(kinds(none).kept, none.M);

  const bad = (over: Partial<MaskingConfig>, re: RegExp) =>
    assert.throws(
      () => maskBatch(seqs, cfg(over), tok, 1, 0),
      (e: unknown) => e instanceof UserError && re.test(e.message),
    );
  bad({ probability: 1.5 }, /probability/);
  bad({ maskFraction: 0.8, randomFraction: 0.3 }, /maskFraction \+ randomFraction/);
  bad({ randomRange: [10, 5] }, /randomRange/);
  bad({ randomRange: [0, tok.vocabSize + 1] }, /randomRange/);
  assert.throws(
    () => maskBatch(seqs, cfg(), { ...tok, clsId: tok.clsId, vocabSize: 500 } as typeof tok, 1, 0),
    /randomRange/,
  );
});
