import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type BertConfig, PRESETS } from '../model/config.js';
import { UserError } from '../util/errors.js';
import {
  DEFAULT_DISTILL,
  type DistillConfig,
  type IntermediateMatch,
  describePlan,
  parseDistillConfig,
  resolveMapping,
  uniform,
} from './mapping.js';

const mini: BertConfig = { ...PRESETS['bert-mini']! }; // 4 layers, 256 wide, 4 heads
const tiny: BertConfig = { ...PRESETS['bert-tiny']! }; // 2 layers, 128 wide, 2 heads
const eelTiny: BertConfig = { ...PRESETS['eelbert-tiny']! }; // bert-tiny shape, hash embeddings
const base: BertConfig = {
  ...PRESETS['bert-mini']!,
  num_hidden_layers: 12,
  hidden_size: 768,
  num_attention_heads: 12,
  intermediate_size: 3072,
};

const SRC = 'distill.json';

/** Assert that fn throws a UserError whose message matches every pattern; returns the message. */
function userError(fn: () => unknown, ...patterns: (string | RegExp)[]): string {
  let msg = '';
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    msg = e.message;
    return true;
  });
  assert.ok(!msg.includes('\n'), `one-line message: ${msg}`);
  for (const p of patterns) {
    if (typeof p === 'string') assert.ok(msg.includes(p), `"${msg}" should contain "${p}"`);
    else assert.match(msg, p);
  }
  return msg;
}

const pairs = (ms: IntermediateMatch[], feature: string) =>
  ms.filter((m) => m.feature === feature).map((m) => [m.studentLayer, m.teacherLayer]);

const withMatches = (
  intermediate: IntermediateMatch[],
  extra: Partial<DistillConfig> = {},
): DistillConfig => ({
  ...DEFAULT_DISTILL,
  intermediate,
  ...extra,
});
const m = (
  teacherLayer: number,
  studentLayer: number,
  feature: IntermediateMatch['feature'],
  loss: IntermediateMatch['loss'] = 'mse',
): IntermediateMatch => ({ teacherLayer, studentLayer, feature, loss, weight: 1 });

describe('uniform mapping (TinyBERT g(m) = m * N / M, rounded half up)', () => {
  test('M=4, N=12: embeddings 0<->0, then teacher layers 3, 6, 9, 12', () => {
    const ms = uniform(4, 12);
    assert.deepEqual(ms[0], {
      teacherLayer: 0,
      studentLayer: 0,
      feature: 'embedding',
      loss: 'mse',
      weight: 1,
    });
    assert.deepEqual(pairs(ms, 'embedding'), [[0, 0]]);
    assert.deepEqual(pairs(ms, 'hidden'), [
      [1, 3],
      [2, 6],
      [3, 9],
      [4, 12],
    ]);
    assert.deepEqual(pairs(ms, 'attention'), [], 'attention is off unless requested');
    assert.ok(ms.every((x) => x.loss === 'mse' && x.weight === 1));
  });

  test('M=4, N=12 with attention (TinyBERT full recipe) and options', () => {
    const ms = uniform(4, 12, { attention: true, weight: 0.5 });
    assert.deepEqual(pairs(ms, 'attention'), [
      [1, 3],
      [2, 6],
      [3, 9],
      [4, 12],
    ]);
    assert.equal(ms.length, 9);
    assert.ok(ms.every((x) => x.weight === 0.5));
    const onlyAttn = uniform(4, 12, { attention: true, hidden: false, embedding: false });
    assert.ok(onlyAttn.every((x) => x.feature === 'attention'));
    assert.equal(onlyAttn.length, 4);
  });

  test('M=2, N=4: teacher layers 2, 4', () => {
    assert.deepEqual(pairs(uniform(2, 4), 'hidden'), [
      [1, 2],
      [2, 4],
    ]);
  });

  test('N not divisible by M rounds: M=3, N=4 -> 1, 3, 4; M=4, N=6 -> 2, 3, 5, 6; M=4, N=2 -> 1, 1, 2, 2', () => {
    assert.deepEqual(
      pairs(uniform(3, 4), 'hidden').map(([, t]) => t),
      [1, 3, 4],
    );
    assert.deepEqual(
      pairs(uniform(4, 6), 'hidden').map(([, t]) => t),
      [2, 3, 5, 6],
    );
    assert.deepEqual(
      pairs(uniform(4, 2), 'hidden').map(([, t]) => t),
      [1, 1, 2, 2],
    );
  });

  test('bad layer counts are UserErrors', () => {
    userError(() => uniform(0, 12), 'student layer count', 'positive integer');
    userError(() => uniform(2, 1.5), 'teacher layer count');
  });
});

describe('parseDistillConfig', () => {
  test('an empty object gives the defaults; "uniform" stays a marker', () => {
    assert.deepEqual(parseDistillConfig({}, SRC), DEFAULT_DISTILL);
    assert.equal(DEFAULT_DISTILL.temperature, 1);
    assert.equal(DEFAULT_DISTILL.alpha, 0.5);
    assert.equal(DEFAULT_DISTILL.projectionSharing, 'shared');
    assert.equal(parseDistillConfig({ intermediate: 'uniform' }, SRC).intermediate, 'uniform');
    assert.deepEqual(
      parseDistillConfig({ intermediate: { uniform: { attention: true } } }, SRC).intermediate,
      {
        uniform: { attention: true },
      },
    );
  });

  test('explicit matches: loss defaults to mse, weight to 1', () => {
    const cfg = parseDistillConfig(
      {
        temperature: 2,
        alpha: 0.9,
        averageHeads: true,
        projectionSharing: 'per-layer',
        intermediate: [
          { teacherLayer: 0, studentLayer: 0, feature: 'embedding' },
          { teacherLayer: 4, studentLayer: 2, feature: 'hidden', loss: 'cosine', weight: 2 },
        ],
      },
      SRC,
    );
    assert.equal(cfg.temperature, 2);
    assert.equal(cfg.projectionSharing, 'per-layer');
    assert.deepEqual(cfg.intermediate, [m(0, 0, 'embedding'), { ...m(4, 2, 'hidden', 'cosine'), weight: 2 }]);
  });

  test('a typo key names the key and suggests the closest valid one', () => {
    const msg = userError(() => parseDistillConfig({ temprature: 2 }, SRC), 'did you mean "temperature"?');
    assert.equal(msg, 'distill.json: unknown key "temprature" (did you mean "temperature"?)');
    userError(
      () =>
        parseDistillConfig({ intermediate: [{ teacher_layer: 3, studentLayer: 1, feature: 'hidden' }] }, SRC),
      'distill.json: intermediate[0]: unknown key "teacher_layer" (did you mean "teacherLayer"?)',
    );
    userError(() => parseDistillConfig({ average_heads: true }, SRC), '"averageHeads"');
    userError(
      () => parseDistillConfig({ zzz: 1 }, SRC),
      'unknown key "zzz"',
      'valid keys: temperature, alpha',
    );
  });

  test('a wrong feature string names the field path and the valid values', () => {
    const intermediate = [
      { teacherLayer: 0, studentLayer: 0, feature: 'embedding' },
      { teacherLayer: 2, studentLayer: 1, feature: 'hidden' },
      { teacherLayer: 4, studentLayer: 2, feature: 'hiden' },
    ];
    const msg = userError(() => parseDistillConfig({ intermediate }, SRC));
    assert.equal(
      msg,
      'distill.json: intermediate[2].feature: expected "embedding", "hidden" or "attention", got "hiden" (did you mean "hidden"?)',
    );
  });

  test('wrong types and ranges name the field', () => {
    userError(
      () =>
        parseDistillConfig(
          { intermediate: [{ teacherLayer: 2, studentLayer: 1, feature: 'hidden', weight: -1 }] },
          SRC,
        ),
      'distill.json: intermediate[0].weight: expected a number >= 0, got -1',
    );
    userError(
      () => parseDistillConfig({ temperature: 0 }, SRC),
      'distill.json: temperature: expected a number > 0, got 0',
    );
    userError(() => parseDistillConfig({ alpha: 1.5 }, SRC), 'alpha: expected a number in [0, 1], got 1.5');
    userError(() => parseDistillConfig({ alpha: null }, SRC), 'alpha: expected a number in [0, 1], got null');
    userError(() => parseDistillConfig({ averageHeads: 'yes' }, SRC), 'averageHeads: expected true or false');
    userError(() => parseDistillConfig({ projectionSharing: 'perlayer' }, SRC), 'did you mean "per-layer"?');
    userError(
      () =>
        parseDistillConfig(
          { intermediate: [{ teacherLayer: 1.5, studentLayer: 1, feature: 'hidden' }] },
          SRC,
        ),
      'intermediate[0].teacherLayer: expected an integer >= 0, got 1.5',
    );
    userError(
      () => parseDistillConfig({ intermediate: [{ teacherLayer: 2, feature: 'hidden' }] }, SRC),
      'intermediate[0]: missing key "studentLayer"',
    );
    userError(
      () => parseDistillConfig({ intermediate: 'uniformm' }, SRC),
      'intermediate: expected "uniform"',
    );
    userError(
      () => parseDistillConfig({ intermediate: { uniform: { atention: true } } }, SRC),
      '"attention"',
    );
    userError(() => parseDistillConfig([], SRC), 'distill.json: expected a JSON object');
  });

  test('feature/layer consistency is checked at parse time too', () => {
    userError(
      () =>
        parseDistillConfig(
          { intermediate: [{ teacherLayer: 3, studentLayer: 1, feature: 'embedding' }] },
          SRC,
        ),
      'intermediate[0]',
      'layer 0 on both sides',
      'teacher layer 3 <-> student layer 1',
    );
    userError(
      () =>
        parseDistillConfig(
          { intermediate: [{ teacherLayer: 0, studentLayer: 0, feature: 'attention' }] },
          SRC,
        ),
      'teacher layer 0 is the embedding output',
    );
    userError(
      () =>
        parseDistillConfig(
          { intermediate: [{ teacherLayer: 2, studentLayer: 1, feature: 'attention', loss: 'cosine' }] },
          SRC,
        ),
      'intermediate[0].loss',
      'attention matches use "mse" only',
    );
  });
});

describe('resolveMapping', () => {
  test('defaults for bert-mini -> bert-tiny: uniform embeddings + hidden, one shared 128 -> 256 projection', () => {
    const plan = resolveMapping(DEFAULT_DISTILL, mini, tiny);
    assert.deepEqual(
      plan.matches.map((x) => [x.feature, x.studentLayer, x.teacherLayer]),
      [
        ['embedding', 0, 0],
        ['hidden', 1, 2],
        ['hidden', 2, 4],
      ],
    );
    const fit = { name: 'distill.fit_dense.weight', bias: 'distill.fit_dense.bias', from: 128, to: 256 };
    assert.deepEqual(plan.projections, [fit]);
    assert.ok(plan.matches.every((x) => x.projection?.name === fit.name));
    assert.deepEqual(plan.teacher, { layers: 4, hidden: 256, heads: 4 });
    assert.deepEqual(plan.student, { layers: 2, hidden: 128, heads: 2 });
    assert.equal(plan.temperature, 1);
    assert.equal(plan.alpha, 0.5);
  });

  test('per-layer projections are named by student layer', () => {
    const plan = resolveMapping({ ...DEFAULT_DISTILL, projectionSharing: 'per-layer' }, mini, tiny);
    assert.deepEqual(
      plan.projections.map((p) => [p.name, p.bias, p.from, p.to]),
      [
        ['distill.fit_dense.0.weight', 'distill.fit_dense.0.bias', 128, 256],
        ['distill.fit_dense.1.weight', 'distill.fit_dense.1.bias', 128, 256],
        ['distill.fit_dense.2.weight', 'distill.fit_dense.2.bias', 128, 256],
      ],
    );
    assert.deepEqual(
      plan.matches.map((x) => x.projection?.name),
      ['distill.fit_dense.0.weight', 'distill.fit_dense.1.weight', 'distill.fit_dense.2.weight'],
    );
  });

  test('projections only where widths differ; none for attention', () => {
    const same = resolveMapping(
      { ...DEFAULT_DISTILL, intermediate: { uniform: { attention: true } } },
      mini,
      mini,
    );
    assert.deepEqual(same.projections, []);
    assert.ok(same.matches.every((x) => x.projection === undefined && x.headAverage === undefined));
    assert.equal(same.matches.length, 9);

    const mixed = resolveMapping(
      withMatches([m(4, 2, 'hidden'), m(4, 2, 'attention')], { averageHeads: true }),
      mini,
      tiny,
    );
    assert.equal(mixed.projections.length, 1);
    assert.ok(mixed.matches[0]!.projection);
    assert.equal(mixed.matches[1]!.projection, undefined);
    assert.deepEqual(mixed.matches[1]!.headAverage, { teacherHeads: 4, studentHeads: 2 });
  });

  test('layer out of range names the layer and the valid range', () => {
    userError(
      () => resolveMapping(withMatches([m(5, 1, 'hidden')]), mini, tiny, SRC),
      'distill.json: intermediate[0].teacherLayer: teacher layer 5 is out of range: the teacher has 4 layers, so hidden layers are 1..4 (layer 0 = embeddings)',
    );
    userError(
      () => resolveMapping(withMatches([m(0, 0, 'embedding'), m(4, 3, 'attention')]), mini, tiny, SRC),
      'intermediate[1].studentLayer',
      'student layer 3 is out of range',
      '1..2',
    );
    userError(
      () => resolveMapping(withMatches([m(2, 0, 'hidden')]), mini, tiny),
      'student layer 0 is the embedding output',
    );
  });

  test('cosine with different widths is an error naming both layers and widths; equal widths are fine', () => {
    userError(
      () => resolveMapping(withMatches([m(4, 2, 'hidden', 'cosine')]), mini, tiny, SRC),
      'distill.json: intermediate[0]: cosine hidden match teacher layer 4 (width 256) <-> student layer 2 (width 128): cosine needs equal widths; use "loss": "mse"',
      '128 -> 256 projection',
    );
    const plan = resolveMapping(withMatches([m(4, 2, 'hidden', 'cosine')]), mini, {
      ...mini,
      num_hidden_layers: 2,
    });
    assert.equal(plan.matches[0]!.projection, undefined);
    assert.deepEqual(plan.projections, []);
  });

  test('attention with different head counts needs averageHeads', () => {
    const msg = userError(() => resolveMapping(withMatches([m(6, 2, 'attention')]), base, tiny));
    assert.equal(
      msg,
      'intermediate[0]: attention match teacher layer 6 (12 heads) <-> student layer 2 (2 heads): head counts differ; set "averageHeads": true to compare head-averaged scores',
    );
    userError(
      () =>
        resolveMapping(
          { ...DEFAULT_DISTILL, intermediate: { uniform: { attention: true } } },
          base,
          tiny,
          SRC,
        ),
      'distill.json: intermediate (uniform, pair 2)',
      'teacher layer 6 (12 heads) <-> student layer 1 (2 heads)',
      '{"uniform": {"attention": false}}',
    );
    const plan = resolveMapping(withMatches([m(6, 2, 'attention')], { averageHeads: true }), base, tiny);
    assert.deepEqual(plan.matches[0]!.headAverage, { teacherHeads: 12, studentHeads: 2 });
    assert.equal(plan.averageHeads, true);
  });

  test('uniform with a 12-layer teacher expands to 3, 6, 9, 12 (bert-base shape -> 4-layer student)', () => {
    const student = { ...mini, hidden_size: 768, num_attention_heads: 12 };
    const plan = resolveMapping(
      { ...DEFAULT_DISTILL, intermediate: { uniform: { attention: true } } },
      base,
      student,
    );
    assert.deepEqual(
      pairs(plan.matches, 'attention').map(([, t]) => t),
      [3, 6, 9, 12],
    );
    assert.deepEqual(plan.projections, []);
  });

  test('a hash-embedding student (eelbert-tiny) resolves like bert-tiny', () => {
    const a = resolveMapping(DEFAULT_DISTILL, mini, eelTiny);
    const b = resolveMapping(DEFAULT_DISTILL, mini, tiny);
    assert.deepEqual(a, b);
  });

  test('vocabulary, task head, duplicates and an empty plan are checked', () => {
    userError(
      () => resolveMapping(DEFAULT_DISTILL, mini, { ...tiny, vocab_size: 21128 }, SRC),
      'distill.json: teacher vocab_size 30522 != student vocab_size 21128',
    );
    const head = (n: number): Partial<BertConfig> => ({
      num_labels: n,
      problem_type: 'single_label_classification',
    });
    userError(
      () => resolveMapping(DEFAULT_DISTILL, { ...mini, ...head(3) }, { ...tiny, ...head(2) }),
      'teacher head has 3 labels but student head has 2',
    );
    resolveMapping(
      { ...DEFAULT_DISTILL, predictionWeight: 0 },
      { ...mini, ...head(3) },
      { ...tiny, ...head(2) },
    );
    resolveMapping(DEFAULT_DISTILL, { ...mini, ...head(3) }, tiny); // student head not created yet: fine
    userError(
      () => resolveMapping(withMatches([m(2, 1, 'hidden'), m(2, 1, 'hidden')]), mini, tiny),
      'intermediate[1]: duplicate hidden match teacher layer 2 <-> student layer 1 (also intermediate[0])',
    );
    userError(
      () => resolveMapping(withMatches([], { predictionWeight: 0 }), mini, tiny),
      'nothing to distil',
    );
    userError(() => resolveMapping({ ...DEFAULT_DISTILL, temperature: -1 }, mini, tiny), 'temperature');
  });
});

describe('describePlan', () => {
  test('a table that says layer 0 is the embeddings', () => {
    const text = describePlan(resolveMapping(DEFAULT_DISTILL, mini, tiny));
    assert.match(text, /layer 0 = embeddings/);
    const lines = text.split('\n');
    const header = lines.findIndex((l) => /student\s+teacher\s+feature\s+loss\s+weight\s+projection/.test(l));
    assert.ok(header > 0, text);
    assert.match(
      lines[header + 1]!,
      /^\s*0 \(embeddings\)\s+0 \(embeddings\)\s+embedding\s+mse\s+1\s+distill\.fit_dense\.weight \(128 -> 256\)$/,
    );
    assert.match(lines[header + 3]!, /^\s*2\s+4\s+hidden\s+mse/);
    assert.match(text, /teacher 4 layers, width 256, 4 heads -> student 2 layers, width 128, 2 heads/);
    assert.match(text, /T = 1, soft \(KD\) 0\.5 \+ hard 0\.5/);
    const attn = describePlan(
      resolveMapping(
        withMatches([m(4, 2, 'attention')], { averageHeads: true, predictionWeight: 0 }),
        mini,
        tiny,
      ),
    );
    assert.match(attn, /heads averaged \(2 vs 4\)/);
    assert.match(attn, /prediction layer: off/);
  });
});
