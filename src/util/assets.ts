/** Files shipped with the package (the BERT uncased vocabulary, the tiny pre-trained models). */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root, from dist/util/ or src/util/. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function assetPath(name: string): string {
  return join(PACKAGE_ROOT, 'assets', name);
}

/** The BERT uncased WordPiece vocabulary (30,522 pieces): every shipped model's, and new models' default. */
export const BERT_VOCAB = assetPath('bert-base-uncased-vocab.txt');
