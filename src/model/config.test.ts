import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { UserError } from '../util/errors.js';
import { type BertConfig, PRESETS, preset, validateConfig } from './config.js';

const SRC = 'dir/config.json';

function userError(fn: () => unknown, re: RegExp) {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof UserError, `${e.name}: ${e.message}`);
    assert.ok(e.message.startsWith(`${SRC}: `), e.message);
    assert.match(e.message, re);
    return true;
  });
}

/** config.json of prajjwal1/bert-tiny fine-tuned with transformers 4.x (BertForSequenceClassification). */
const HF4 = {
  _name_or_path: 'prajjwal1/bert-tiny',
  architectures: ['BertForSequenceClassification'],
  attention_probs_dropout_prob: 0.1,
  classifier_dropout: null,
  gradient_checkpointing: false,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 128,
  id2label: { '0': 'LABEL_0', '1': 'LABEL_1' },
  initializer_range: 0.02,
  intermediate_size: 512,
  label2id: { LABEL_0: 0, LABEL_1: 1 },
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  model_type: 'bert',
  num_attention_heads: 2,
  num_hidden_layers: 2,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
  torch_dtype: 'float32',
  transformers_version: '4.46.3',
  type_vocab_size: 2,
  use_cache: true,
  vocab_size: 30522,
};

/** The same as transformers 5.x writes it: `dtype`, no id2label for the default 2 labels. */
const { id2label: _i, label2id: _l, torch_dtype: _t, _name_or_path: _n, ...HF5_BASE } = HF4;
const HF5 = { ...HF5_BASE, dtype: 'float32', transformers_version: '5.0.0' };

describe('validateConfig', () => {
  test("minnow's own config.json reads as before (presets, shipped models, fine-tuned heads)", () => {
    for (const [name, p] of Object.entries(PRESETS)) {
      const c = { ...p, minnow_preset: name };
      assert.deepEqual(validateConfig(structuredClone(c), SRC), c, name);
    }
    for (const m of ['eelbert-tiny', 'uno-eelbert']) {
      const raw = JSON.parse(readFileSync(join('models', m, 'config.json'), 'utf8'));
      assert.deepEqual(validateConfig(structuredClone(raw), SRC), raw, m);
    }
    const mnli: BertConfig = {
      ...preset('bert-tiny'),
      num_labels: 3,
      problem_type: 'single_label_classification',
      id2label: { '0': 'contradiction', '1': 'entailment', '2': 'neutral' },
      finetuning_task: 'mnli',
    };
    assert.deepEqual(validateConfig(structuredClone(mnli), SRC), mnli);
    // A regression head gains transformers' default id2label, so callers can rely on all three fields.
    const stsb = {
      ...preset('eelbert-tiny'),
      num_labels: 1,
      problem_type: 'regression',
      finetuning_task: 'stsb',
    };
    assert.deepEqual(validateConfig(structuredClone(stsb), SRC), { ...stsb, id2label: { '0': 'LABEL_0' } });
  });

  test('transformers 4.x and 5.x config.json: their extra fields are accepted and kept', () => {
    for (const raw of [HF4, HF5]) {
      const c = validateConfig(structuredClone(raw), SRC, { hasClassifier: true });
      assert.equal(c.hidden_size, 128);
      assert.equal(c.embedding_type, 'table');
      assert.deepEqual((c as unknown as { architectures: string[] }).architectures, [
        'BertForSequenceClassification',
      ]);
    }
  });

  test('the head as transformers reads it: num_labels from id2label, else 2 with a classifier', () => {
    const head = (raw: object, hasClassifier: boolean) => {
      const c = validateConfig(structuredClone(raw), SRC, { hasClassifier });
      return { n: c.num_labels, problem: c.problem_type, labels: c.id2label };
    };
    const two = { '0': 'LABEL_0', '1': 'LABEL_1' };
    assert.deepEqual(head(HF4, true), { n: 2, problem: 'single_label_classification', labels: two });
    assert.deepEqual(head(HF5, true), { n: 2, problem: 'single_label_classification', labels: two });
    // No classifier in the checkpoint (BertModel, BertForMaskedLM): no head, whatever id2label says.
    assert.deepEqual(head(HF4, false), { n: undefined, problem: undefined, labels: undefined });
    assert.equal('label2id' in validateConfig(structuredClone(HF4), SRC), false);
    const three = { '0': 'neg', '1': 'neutral', '2': 'pos' };
    assert.deepEqual(head({ ...HF5, id2label: three }, true), {
      n: 3,
      problem: 'single_label_classification',
      labels: three,
    });
    assert.deepEqual(head({ ...HF5, id2label: { '0': 'score' } }, true), {
      n: 1,
      problem: 'regression',
      labels: { '0': 'score' },
    });
    assert.deepEqual(head({ ...HF5, problem_type: null }, true).problem, 'single_label_classification');
    // minnow's num_labels (with or without problem_type) needs no classifier check.
    assert.deepEqual(head({ ...preset('bert-tiny'), num_labels: 1 }, false).problem, 'regression');
  });

  test('knowledge and lowrank fields: read with defaults, bad values are UserErrors naming the field', () => {
    const base = { ...PRESETS['bert-tiny'] } as Record<string, unknown>;
    const read = (extra: Record<string, unknown>) => validateConfig({ ...base, ...extra }, 'm/config.json');
    assert.deepEqual(read({ knowledge: { source: 'wordnet' } }).knowledge, {
      source: 'wordnet',
      max_entities: 2,
      max_branch_tokens: 6,
      with_relation: true,
      visible_matrix: true,
    });
    assert.equal(read({ knowledge: null }).knowledge, undefined);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ knowledge: 'wordnet' }, /m\/config\.json: knowledge: an object/],
      [{ knowledge: {} }, /knowledge\.source: undefined should be "wordnet" or the name of a triples file/],
      [
        { knowledge: { source: 'wordnet', max_entities: 0 } },
        /knowledge\.max_entities: 0 should be an integer 1\.\.512/,
      ],
      [
        { knowledge: { source: 'f.tsv', visible_matrix: 'no' } },
        /knowledge\.visible_matrix: "no" should be true or false/,
      ],
      [
        { knowledge: { source: 'wordnet', relations: 'is a' } },
        /knowledge\.relations: .* should be a list of relation names/,
      ],
      [{ embedding_type: 'lowrank', lowrank_dim: 0 }, /lowrank_dim/],
      [{ embedding_type: 'lowrank', lowrank_dim: 129 }, /lowrank_dim.*at most hidden_size \(128\)/],
      [{ embedding_type: 'vectors' }, /embedding_type/],
    ];
    for (const [extra, re] of bad)
      assert.throws(
        () => read(extra),
        (e) => e instanceof UserError && re.test(e.message),
        JSON.stringify(extra),
      );
    assert.equal(read({ embedding_type: 'lowrank' }).lowrank_dim, 8);
    assert.equal(read({ lowrank_dim: 4 }).lowrank_dim, undefined, 'lowrank_dim only for lowrank models');
  });

  test('bad head fields are UserErrors naming the file and the field', () => {
    const tiny = preset('bert-tiny');
    userError(
      () => validateConfig({ ...tiny, num_labels: 3, id2label: { '0': 'a', '1': 'b' } }, SRC),
      /field "num_labels" must be the number of "id2label" entries \(2\), got 3/,
    );
    userError(
      () => validateConfig({ ...tiny, num_labels: 2, id2label: ['a', 'b'] }, SRC),
      /field "id2label"/,
    );
    userError(
      () => validateConfig({ ...tiny, num_labels: 2, id2label: { '1': 'a', '2': 'b' } }, SRC),
      /"id2label"/,
    );
    userError(
      () => validateConfig({ ...tiny, num_labels: 2, id2label: { '0': 'a', '1': 7 } }, SRC),
      /"id2label"/,
    );
    userError(
      () => validateConfig({ ...tiny, num_labels: 2, problem_type: 'multi_label_classification' }, SRC),
      /field "problem_type" .*multi-label classification is not supported/,
    );
    userError(
      () => validateConfig({ ...tiny, num_labels: 1, problem_type: 'single_label_classification' }, SRC),
      /field "problem_type" .*num_labels is 1/,
    );
    userError(
      () => validateConfig({ ...tiny, num_labels: 3, problem_type: 'regression' }, SRC),
      /field "problem_type"/,
    );
    userError(() => validateConfig({ ...tiny, num_labels: 1e9 }, SRC), /field "num_labels" must be at most/);
    userError(
      () => validateConfig({ ...tiny, num_labels: '2' }, SRC),
      /field "num_labels" must be a positive integer/,
    );
  });

  test('unsupported transformers variants and wrong types are UserErrors naming the field', () => {
    const cases: [object, RegExp][] = [
      [{ ...HF4, position_embedding_type: 'relative_key' }, /field "position_embedding_type"/],
      [{ ...HF4, is_decoder: true }, /field "is_decoder"/],
      [{ ...HF4, architectures: ['BertForTokenClassification'] }, /field "architectures"/],
      [{ ...HF4, architectures: 'BertModel' }, /field "architectures" must be a list/],
      [{ ...HF4, model_type: 'roberta' }, /field "model_type" must be "bert"/],
      [{ ...HF4, hidden_act: 'gelu_new' }, /field "hidden_act" must be "gelu"/],
      [{ ...HF4, classifier_dropout: 2 }, /field "classifier_dropout" must be a number in \[0, 1\)/],
      [{ ...HF4, hidden_size: 2 ** 53 }, /field "hidden_size" must be a positive integer/],
      [{ ...HF4, vocab_size: undefined }, /field "vocab_size" must be a positive integer, got nothing/],
      [{ ...HF4, layer_norm_eps: '1e-12' }, /field "layer_norm_eps" must be a number > 0, got "1e-12"/],
      [{ ...HF4, initializer_range: -1 }, /field "initializer_range"/],
      [{ ...HF4, minnow_vocab: 7 }, /field "minnow_vocab" must be a string/],
      [
        { ...HF4, minnow_pretraining: [{ corpus: 'c' }] },
        /field "minnow_pretraining"\[0\]\.tokens must be a number/,
      ],
    ];
    for (const [raw, re] of cases) userError(() => validateConfig(raw, SRC, { hasClassifier: true }), re);
  });
});
