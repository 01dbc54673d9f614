/**
 * The tokenizer files of an exported model folder, for Hugging Face libraries (transformers.js,
 * transformers, tokenizers): `tokenizer.json` and `tokenizer_config.json` describing a BERT WordPiece
 * tokenizer over a model's vocabulary, the same tokenization as {@link BertTokenizer} in
 * `./wordpiece.ts` (checked against transformers.js in `./tokenizer-files.test.ts`).
 *
 * `tokenizer.json` for the bert-base-uncased vocabulary equals, key for key, the file Hugging Face
 * ships for bert-base-uncased. Like that file it has no `model.type`: transformers.js and tokenizers
 * recognise a WordPiece model by its `unk_token` and `continuing_subword_prefix` without `merges`.
 *
 * What transformers.js 4.3.1 reads from `tokenizer_config.json` (src/tokenization_utils.js,
 * src/models/auto/tokenization_auto.js, and the Tokenizer class of @huggingface/tokenizers):
 * - `tokenizer_class`: picks the class; only `BertTokenizer` returns `token_type_ids` (without it the
 *   base class returns input_ids and attention_mask alone, and a pair's segment ids are lost);
 * - `model_max_length`: the length `truncation: true` / `padding: true` cut or pad to (pipelines pass
 *   both); absent means Infinity, so over-long inputs would reach the model uncut;
 * - `pad_token`, `sep_token`, `unk_token`, `mask_token` (their ids: padding uses pad_token_id);
 * - `clean_up_tokenization_spaces` (decode; default true).
 * The rest (`do_lower_case`, `tokenize_chinese_chars`, `strip_accents`, `cls_token`) is for the Python
 * transformers BertTokenizerFast, which rebuilds the normalizer when they disagree with it.
 */
import { UserError } from '../util/errors.js';

export interface TokenizerJsonOptions {
  /** Lower-case and strip accents (BERT uncased). Default true; minnow's BertTokenizer always does. */
  lowercase?: boolean;
  /**
   * When set, tokenizer.json asks for truncation to this many tokens (longest_first, as minnow's
   * `encode` with `maxLength`). The tokenizers library (and its bindings) applies it on loading the
   * file; transformers (Python) and transformers.js decide per call and cut to `model_max_length`
   * from tokenizer_config.json. Default: no truncation (`null`).
   */
  maxLength?: number;
  /** Name of the vocabulary's source, for error messages. Default `vocabulary`. */
  source?: string;
}

export interface TokenizerConfigOptions {
  /** `model_max_length`: the most tokens the model takes (its position embeddings). Default 512. */
  maxLength?: number;
  /** `do_lower_case`; must agree with tokenizer.json's normalizer. Default true. */
  lowercase?: boolean;
  /** Name of the vocabulary's source, for error messages. Default `vocabulary`. */
  source?: string;
}

interface AddedToken {
  id: number;
  special: boolean;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
}

type TemplatePiece =
  { SpecialToken: { id: string; type_id: number } } | { Sequence: { id: 'A' | 'B'; type_id: number } };

/** The tokenizers library's `tokenizer.json` for a BERT WordPiece tokenizer. */
export interface TokenizerJson {
  version: '1.0';
  truncation: { direction: 'Right'; max_length: number; strategy: 'LongestFirst'; stride: 0 } | null;
  padding: null;
  added_tokens: AddedToken[];
  normalizer: {
    type: 'BertNormalizer';
    clean_text: true;
    handle_chinese_chars: true;
    strip_accents: null;
    lowercase: boolean;
  };
  pre_tokenizer: { type: 'BertPreTokenizer' };
  post_processor: {
    type: 'TemplateProcessing';
    single: TemplatePiece[];
    pair: TemplatePiece[];
    special_tokens: Record<string, { id: string; ids: number[]; tokens: string[] }>;
  };
  decoder: { type: 'WordPiece'; prefix: '##'; cleanup: true };
  model: {
    unk_token: '[UNK]';
    continuing_subword_prefix: '##';
    max_input_chars_per_word: number;
    /** piece -> id */
    vocab: Record<string, number>;
  };
}

/** transformers' `tokenizer_config.json` for BertTokenizer (keys sorted, as transformers writes them). */
export interface TokenizerConfigJson {
  clean_up_tokenization_spaces: true;
  cls_token: '[CLS]';
  do_lower_case: boolean;
  /** null when the vocabulary has no [MASK] (so that Python transformers adds none). */
  mask_token: '[MASK]' | null;
  model_max_length: number;
  pad_token: '[PAD]';
  sep_token: '[SEP]';
  strip_accents: null;
  tokenize_chinese_chars: true;
  tokenizer_class: 'BertTokenizer';
  unk_token: '[UNK]';
}

/** Special tokens a vocabulary must have: WordPiece's unknown token, the template's, padding's. */
const REQUIRED = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'] as const;
/** Written as a special token when the vocabulary has it. */
const OPTIONAL = ['[MASK]'] as const;

interface SpecialIds {
  ids: Map<string, number>;
  /** [PAD] [UNK] [CLS] [SEP] and, if present, [MASK], with their ids, by id. */
  specials: { token: string; id: number }[];
}

/** piece -> id; a repeated piece keeps its last id, as BertTokenizer and Hugging Face's load_vocab do. */
function indexVocabulary(vocabulary: readonly string[], source: string): SpecialIds {
  if (vocabulary.length === 0) throw new UserError(`${source}: vocabulary is empty`);
  const ids = new Map<string, number>();
  for (let i = 0; i < vocabulary.length; i++) ids.set(vocabulary[i], i);
  const missing = REQUIRED.filter((t) => !ids.has(t));
  if (missing.length > 0) {
    const list =
      missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)}`;
    throw new UserError(
      `${source}: vocabulary has no ${list} token${missing.length === 1 ? '' : 's'}; ` +
        `a BERT tokenizer needs ${REQUIRED.join(' ')}`,
    );
  }
  const specials = [...REQUIRED, ...OPTIONAL]
    .filter((t) => ids.has(t))
    .map((token) => ({ token, id: ids.get(token)! }))
    .sort((a, b) => a.id - b.id);
  return { ids, specials };
}

function checkMaxLength(maxLength: number, min: number, what: string): void {
  if (!Number.isInteger(maxLength) || maxLength < min) {
    throw new UserError(`${what}: must be an integer >= ${min}, got ${maxLength}`);
  }
}

/**
 * `tokenizer.json` for BERT WordPiece over `vocabulary` (index = id): BertNormalizer, BertPreTokenizer,
 * WordPiece with `##` continuations and [UNK] for words over 100 characters, `[CLS] A [SEP] B [SEP]`
 * with the special tokens' ids looked up in the vocabulary. Throws a UserError when [PAD], [UNK],
 * [CLS] or [SEP] is missing; [MASK] is listed only if present.
 *
 * The vocab's keys are in id order, but JSON.stringify writes integer-like keys ("0", "1", ...) first;
 * readers map keys to the ids stored with them, so the order does not matter.
 */
export function tokenizerJson(vocabulary: readonly string[], opts: TokenizerJsonOptions = {}): TokenizerJson {
  const source = opts.source ?? 'vocabulary';
  const { ids, specials } = indexVocabulary(vocabulary, source);
  if (opts.maxLength !== undefined) checkMaxLength(opts.maxLength, 3, 'maxLength');
  const cls = ids.get('[CLS]')!;
  const sep = ids.get('[SEP]')!;

  // Object.fromEntries defines own properties, so even a piece named "__proto__" is a plain key.
  const entries: [string, number][] = [];
  for (let i = 0; i < vocabulary.length; i++) {
    if (ids.get(vocabulary[i]) === i) entries.push([vocabulary[i], i]);
  }

  const special = (id: string, typeId: number): TemplatePiece => ({ SpecialToken: { id, type_id: typeId } });
  const sequence = (id: 'A' | 'B', typeId: number): TemplatePiece => ({ Sequence: { id, type_id: typeId } });

  return {
    version: '1.0',
    truncation:
      opts.maxLength === undefined
        ? null
        : { direction: 'Right', max_length: opts.maxLength, strategy: 'LongestFirst', stride: 0 },
    padding: null,
    added_tokens: specials.map(({ token, id }) => ({
      id,
      special: true,
      content: token,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: opts.lowercase ?? true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0)],
      pair: [
        special('[CLS]', 0),
        sequence('A', 0),
        special('[SEP]', 0),
        sequence('B', 1),
        special('[SEP]', 1),
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [cls], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [sep], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(entries),
    },
  };
}

/**
 * `tokenizer_config.json` for the tokenizer of {@link tokenizerJson}: BertTokenizer, its special
 * tokens, `model_max_length` (default 512). Throws a UserError when the vocabulary lacks a required
 * special token, as tokenizerJson does.
 */
export function tokenizerConfigJson(
  vocabulary: readonly string[],
  opts: TokenizerConfigOptions = {},
): TokenizerConfigJson {
  const { ids } = indexVocabulary(vocabulary, opts.source ?? 'vocabulary');
  const maxLength = opts.maxLength ?? 512;
  checkMaxLength(maxLength, 3, 'maxLength');
  return {
    clean_up_tokenization_spaces: true,
    cls_token: '[CLS]',
    do_lower_case: opts.lowercase ?? true,
    mask_token: ids.has('[MASK]') ? '[MASK]' : null,
    model_max_length: maxLength,
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: '[UNK]',
  };
}
