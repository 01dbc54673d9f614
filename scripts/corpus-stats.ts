/**
 * Context for masked-LM losses: the unigram baseline of the pre-training corpus. A model that ignores the
 * context can do no better than predict every masked piece from the training set's piece frequencies, so
 * its validation MLM loss is the cross-entropy of the validation pieces under those frequencies, and its
 * accuracy the validation frequency of the most common training piece. Masked positions are drawn
 * uniformly from the non-special pieces, so these are the baselines for `valid_mlm_loss` / `_accuracy`.
 *
 *   npx tsx scripts/corpus-stats.ts [--shared ../shared] [--cache-dir runs/eelbert2/cache]
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { corpusTokens } from '../src/data/corpus.js';
import { pieceCounts, unigramLogPrior } from '../src/train/pretrain.js';
import { BERT_VOCAB } from '../src/util/assets.js';
import { readVocabFile } from '../src/text/vocab-file.js';

const { values } = parseArgs({
  options: {
    shared: { type: 'string', default: '../shared' },
    'cache-dir': { type: 'string', default: '.minnow-cache' },
  },
});
const dir = join(resolve(values.shared!), 'data', 'corpus');
const tok = readVocabFile(BERT_VOCAB);

const train = await corpusTokens(join(dir, 'gutenberg_train.txt'), tok, values['cache-dir']!);
const valid = await corpusTokens(join(dir, 'gutenberg_valid.txt'), tok, values['cache-dir']!);
const ct = pieceCounts(train.tokens, tok.vocabSize);
const cv = pieceCounts(valid.tokens, tok.vocabSize);
// Add-one smoothed (unseen pieces get a finite cost): the prior --decoder-bias unigram starts from.
const prior = unigramLogPrior(train.tokens, tok.vocabSize);
let entropy = 0;
let cross = 0;
let top = 0;
for (let i = 0; i < tok.vocabSize; i++) {
  if (ct[i] > 0) entropy -= (ct[i] / train.count) * Math.log(ct[i] / train.count);
  if (cv[i] > 0) cross -= (cv[i] / valid.count) * prior[i];
  if (ct[i] > ct[top]) top = i;
}
const result = {
  train_pieces: train.count,
  valid_pieces: valid.count,
  train_unigram_entropy_nats: entropy,
  valid_unigram_cross_entropy_nats: cross,
  most_common_piece: tok.vocabulary[top],
  valid_unigram_accuracy: cv[top] / valid.count,
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
