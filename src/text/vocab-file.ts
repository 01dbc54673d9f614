/** Reading a vocab.txt or tokenizer.json from disk (Node only; the tokenizer itself runs anywhere). */
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { tokenizerFromJson } from './tokenizer-json.js';
import { BertTokenizer, type BertTokenizerOptions } from './wordpiece.js';

/** A tokenizer over a `vocab.txt` (one token per line, id = line number - 1). */
export function readVocabFile(path: string, opts: Omit<BertTokenizerOptions, 'source'> = {}): BertTokenizer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${path}: vocabulary file not found`);
    throw new UserError(`${path}: cannot read vocabulary file (${code ?? (e as Error).message})`);
  }
  const lines = BertTokenizer.parseVocab(text);
  if (lines.length === 0) throw new UserError(`${path}: vocabulary file is empty`);
  return new BertTokenizer(lines, { ...opts, source: path });
}

/** A tokenizer over a Hugging Face `tokenizer.json` (its WordPiece vocabulary; see tokenizer-json.ts). */
export function readTokenizerJsonFile(path: string): BertTokenizer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: cannot read tokenizer file (${code ?? (e as Error).message})`);
  }
  return tokenizerFromJson(text, path);
}
