/**
 * Reading a Hugging Face `tokenizer.json` as minnow's tokenizer: the vocabulary of its WordPiece model and
 * the normalizer's settings. transformers 5.x saves a BERT tokenizer as tokenizer.json (plus
 * tokenizer_config.json) with no vocab.txt, so a model directory it writes has its vocabulary only here.
 *
 * minnow's tokenizer (./wordpiece.ts) is BERT uncased: BertNormalizer with lowercasing and accent
 * stripping, BertPreTokenizer, WordPiece with `##` continuations. A tokenizer.json that asks for anything
 * else (a cased model, another model type, another normalizer) is refused with a one-line error naming
 * the field, rather than read with a different tokenization than the model was trained with.
 * Browser-safe (text in, no file system).
 */
import { UserError } from '../util/errors.js';
import { BertTokenizer } from './wordpiece.js';

export interface TokenizerJsonSettings {
  /** Pieces in id order. */
  vocabulary: string[];
  /** WordPiece's limit: longer words become [UNK]. */
  maxInputCharsPerWord: number;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The vocabulary and WordPiece settings of a tokenizer.json's text (`source` names it in errors). */
export function parseTokenizerJson(text: string, source: string): TokenizerJsonSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\ufeff/, ''));
  } catch (e) {
    throw new UserError(`${source}: invalid JSON (${(e as Error).message.replace(/\s+/g, ' ')})`);
  }
  if (!isObject(raw)) throw new UserError(`${source}: not a JSON object`);
  const bad = (field: string, why: string): never => {
    throw new UserError(`${source}: ${field} ${why}`);
  };
  const model = raw.model;
  if (!isObject(model)) return bad('model', 'is missing (a tokenizer.json names its model)');
  if (model.type !== undefined && model.type !== 'WordPiece')
    bad('model.type', `is ${JSON.stringify(model.type)}; minnow reads WordPiece (BERT) tokenizers only`);
  if (model.continuing_subword_prefix !== undefined && model.continuing_subword_prefix !== '##')
    bad('model.continuing_subword_prefix', `is ${JSON.stringify(model.continuing_subword_prefix)}, not "##"`);
  const max = model.max_input_chars_per_word ?? 100;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1)
    bad('model.max_input_chars_per_word', `must be a positive integer, got ${JSON.stringify(max)}`);

  const normalizer = raw.normalizer;
  if (normalizer !== undefined && normalizer !== null) {
    if (!isObject(normalizer) || normalizer.type !== 'BertNormalizer')
      bad('normalizer', `is not BertNormalizer; minnow's tokenizer is BERT's (uncased)`);
    const n = normalizer as Record<string, unknown>;
    const uncased =
      "minnow's tokenizer is BERT uncased (lower-cased, accents stripped): a cased model is not supported";
    if (n.lowercase === false) bad('normalizer.lowercase', `is false; ${uncased}`);
    if (n.strip_accents === false) bad('normalizer.strip_accents', `is false; ${uncased}`);
    if (n.handle_chinese_chars === false)
      bad('normalizer.handle_chinese_chars', "is false; minnow's tokenizer splits CJK ideographs, as BERT's");
    if (n.clean_text === false)
      bad('normalizer.clean_text', "is false; minnow's tokenizer cleans text, as BERT's");
  }
  const pre = raw.pre_tokenizer;
  if (pre !== undefined && pre !== null && !(isObject(pre) && pre.type === 'BertPreTokenizer'))
    bad('pre_tokenizer', "is not BertPreTokenizer; minnow's tokenizer is BERT's");

  const vocab = model.vocab;
  if (!isObject(vocab)) return bad('model.vocab', 'is missing (WordPiece needs its vocabulary: piece -> id)');
  const entries = Object.entries(vocab);
  if (entries.length === 0) bad('model.vocab', 'is empty');
  const vocabulary = new Array<string>(entries.length);
  for (const [piece, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= entries.length)
      bad(`model.vocab["${piece}"]`, `is ${JSON.stringify(id)}; ids must be 0..${entries.length - 1}`);
    if (vocabulary[id as number] !== undefined)
      bad(`model.vocab["${piece}"]`, `repeats id ${id} (of "${vocabulary[id as number]}")`);
    vocabulary[id as number] = piece;
  }
  return { vocabulary, maxInputCharsPerWord: max as number };
}

/** minnow's tokenizer for a tokenizer.json's text. */
export function tokenizerFromJson(text: string, source: string): BertTokenizer {
  const s = parseTokenizerJson(text, source);
  return new BertTokenizer(s.vocabulary, { source, maxInputCharsPerWord: s.maxInputCharsPerWord });
}
