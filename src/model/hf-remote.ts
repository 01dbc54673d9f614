/**
 * Hugging Face remote code for the models plain BERT cannot read. A hash (EELBERT) or low-rank model, or
 * a hybrid with a bag-of-n-grams path, loaded as `BertForSequenceClassification` would get random word
 * embeddings (hash: no table is stored), a size mismatch (low-rank codes) or silently lose its n-gram
 * path. So their directories carry python/configuration_minnow.py and python/modeling_minnow.py, and
 * config.json says so:
 *
 *   "model_type": "minnow-bert"        transformers refuses an unknown type without trust_remote_code
 *   "auto_map": {"AutoConfig": "configuration_minnow.MinnowConfig", "AutoModel": ..., ...}
 *   "architectures": ["MinnowForSequenceClassification"]   (or MinnowForMaskedLM / MinnowModel)
 *
 * `from_pretrained(dir, trust_remote_code=True)` then builds minnow's model (weights under Hugging Face
 * BERT names). Table models keep `model_type: "bert"` and get nothing here.
 *
 * Export folders are also transformers.js folders, and transformers.js picks its model class by
 * model_type alone (an unknown one is "Unsupported model type"), so there config.json keeps
 * `model_type: "bert"` and gets the auto_map and the .py files: Python with trust_remote_code reads the
 * folder's model.safetensors with minnow's classes, transformers.js reads only the ONNX files. Without
 * trust_remote_code Python would read the folder as plain BERT: a low-rank folder is refused (its codes'
 * shape), and a hash folder's model.safetensors holds a one-row placeholder under BERT's word-table name
 * (HASH_GUARD_ROWS) so it is refused too (size mismatch) instead of getting random word embeddings.
 *
 * minnow reads both: config.ts accepts "minnow-bert" and the `auto_map` and `architectures` fields.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors } from '../runtime/safetensors.js';
import { tokenizerConfigJson } from '../text/tokenizer-files.js';
import { BertTokenizer } from '../text/wordpiece.js';
import { PACKAGE_ROOT } from '../util/assets.js';
import type { BertConfig } from './config.js';
import { embeddingKind, hasDerivedWeight } from './embeddings/registry.js';
import { WORD_TABLE } from './model.js';

/** config.json's model_type for models that need the remote code. */
export const REMOTE_MODEL_TYPE = 'minnow-bert';

/** The Python files, as written beside config.json (their source is python/ in this repository). */
export const REMOTE_CODE_FILES = ['configuration_minnow.py', 'modeling_minnow.py'] as const;

/** transformers' Auto classes and minnow's classes for them. */
export const AUTO_MAP = Object.freeze({
  AutoConfig: 'configuration_minnow.MinnowConfig',
  AutoModel: 'modeling_minnow.MinnowModel',
  AutoModelForMaskedLM: 'modeling_minnow.MinnowForMaskedLM',
  AutoModelForSequenceClassification: 'modeling_minnow.MinnowForSequenceClassification',
});

/** Rows of the placeholder word table in a hash export's model.safetensors (see the file comment). */
export const HASH_GUARD_ROWS = 1;

/** Whether plain BERT code would misread the model: hash or low-rank embeddings, or an n-gram path. */
export function needsRemoteCode(c: Pick<BertConfig, 'embedding_type' | 'ngram'>): boolean {
  return !embeddingKind(c).plainBert || !!c.ngram;
}

export interface RemoteFields {
  model_type?: string;
  auto_map: typeof AUTO_MAP;
  architectures?: string[];
}

/**
 * config.json's fields for a model that needs the remote code (undefined for a plain BERT model). The
 * architecture is the classifier when the model has a task head, else the masked-LM model when it keeps
 * one (`mlm`), else the encoder. `folder: 'export'` adds the auto_map only: model_type and architectures
 * stay BERT's, for transformers.js.
 */
export function remoteFields(
  c: BertConfig,
  o: { mlm?: boolean; folder?: 'model' | 'export' } = {},
): RemoteFields | undefined {
  if (!needsRemoteCode(c)) return undefined;
  if (o.folder === 'export') return { auto_map: AUTO_MAP };
  const architecture =
    c.num_labels !== undefined
      ? 'MinnowForSequenceClassification'
      : o.mlm
        ? 'MinnowForMaskedLM'
        : 'MinnowModel';
  return { model_type: REMOTE_MODEL_TYPE, auto_map: AUTO_MAP, architectures: [architecture] };
}

/** The .py files' text, by file name (read from python/ of this package). */
export function remoteCodeFiles(): Record<string, string> {
  return Object.fromEntries(
    REMOTE_CODE_FILES.map((f) => [f, readFileSync(join(PACKAGE_ROOT, 'python', f), 'utf8')]),
  );
}

/**
 * A model directory's or export folder's files with the remote code: config.json (JSON text) gets
 * remoteFields and the .py files are added (and a model directory's vocab.txt a tokenizer_config.json
 * naming BertTokenizer, for AutoTokenizer); a hash export's model.safetensors gets the guard. Files of
 * a model that needs no remote code come back as they are.
 */
export function withRemoteCode(
  files: object,
  c: BertConfig,
  o: { mlm?: boolean; folder?: 'model' | 'export' } = {},
): Record<string, string | Uint8Array> {
  const given = files as Record<string, string | Uint8Array>;
  const fields = remoteFields(c, o);
  if (!fields) return given;
  const config = JSON.parse(given['config.json'] as string) as Record<string, unknown>;
  const out: Record<string, string | Uint8Array> = {
    ...given,
    'config.json': `${JSON.stringify({ ...config, ...fields }, null, 2)}\n`,
    ...remoteCodeFiles(),
  };
  // AutoTokenizer cannot guess the tokenizer of an unknown model type: name BERT's (over vocab.txt).
  const vocab = given['vocab.txt'];
  if (o.folder !== 'export' && typeof vocab === 'string' && !given['tokenizer_config.json'])
    out['tokenizer_config.json'] = `${JSON.stringify(
      tokenizerConfigJson(BertTokenizer.parseVocab(vocab), { maxLength: c.max_position_embeddings }),
      null,
      2,
    )}\n`;
  const weights = given['model.safetensors'];
  // A hash export stores no word table (its kind computes it at load): a placeholder guards the name.
  if (o.folder === 'export' && hasDerivedWeight(c) && weights instanceof Uint8Array)
    out['model.safetensors'] = withHashGuard(weights, c.hidden_size);
  return out;
}

/** model.safetensors with a (HASH_GUARD_ROWS, H) zero tensor named as BERT's word table. */
export function withHashGuard(weights: Uint8Array, hidden: number): Uint8Array {
  const tensors = decodeSafetensors(weights, 'model.safetensors').tensors;
  tensors.set(WORD_TABLE, {
    dtype: 'F32',
    shape: [HASH_GUARD_ROWS, hidden],
    data: new Float32Array(HASH_GUARD_ROWS * hidden),
  });
  return encodeSafetensors(tensors, { format: 'pt' });
}
