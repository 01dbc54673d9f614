import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { preset } from '../model/config.js';
import { createModel } from '../model/io.js';
import { Rng } from '../util/rng.js';
import { initFromTeacher } from './init.js';

const VOCAB = 'assets/bert-base-uncased-vocab.txt';

describe('DistilBERT-style init from teacher layers', () => {
  test('copies the chosen layers and embeddings; a hash student keeps its derived table', () => {
    const teacher = createModel(preset('bert-mini'), VOCAB, new Rng(1));
    const student = createModel({ ...preset('eelbert-mini'), num_hidden_layers: 2 }, VOCAB, new Rng(2));
    const table = Float32Array.from(student.store.get('bert.embeddings.word_embeddings.weight').data);
    const copied = initFromTeacher(student, teacher, [3, 1]);
    const w = (m: typeof teacher, name: string) => m.store.get(name).data;
    assert.deepEqual(
      w(student, 'bert.encoder.layer.0.output.dense.weight'),
      w(teacher, 'bert.encoder.layer.3.output.dense.weight'),
    );
    assert.deepEqual(
      w(student, 'bert.encoder.layer.1.attention.self.key.bias'),
      w(teacher, 'bert.encoder.layer.1.attention.self.key.bias'),
    );
    assert.deepEqual(
      w(student, 'bert.embeddings.position_embeddings.weight'),
      w(teacher, 'bert.embeddings.position_embeddings.weight'),
    );
    assert.deepEqual(w(student, 'bert.embeddings.word_embeddings.weight'), table);
    assert.ok(!copied.includes('bert.embeddings.word_embeddings.weight'));
  });

  test('widths and layer lists are checked with clear errors', () => {
    const teacher = createModel(preset('bert-mini'), VOCAB, new Rng(1));
    assert.throws(
      () => initFromTeacher(createModel(preset('bert-tiny'), VOCAB, new Rng(2)), teacher, [0, 1]),
      /hidden_size differs \(teacher 256, student 128\)/,
    );
    const student = createModel({ ...preset('bert-mini'), num_hidden_layers: 2 }, VOCAB, new Rng(2));
    assert.throws(
      () => initFromTeacher(student, teacher, [0]),
      /1 teacher layers given for a 2-layer student/,
    );
    assert.throws(() => initFromTeacher(student, teacher, [0, 4]), /teacher layer 4 out of range 0\.\.3/);
  });
});
