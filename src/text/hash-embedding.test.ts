import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import {
  boundaryForm,
  DEFAULT_HASH_CONFIG,
  type HashEmbeddingConfig,
  hashEmbedding,
  hashEmbeddingTable,
  murmur3_32,
  murmur3_32Bytes,
  partitionBlocks,
  validateHashConfig,
} from './hash-embedding.js';

const cfg = DEFAULT_HASH_CONFIG;
const shared: HashEmbeddingConfig = { ...DEFAULT_HASH_CONFIG, partition: 'shared' };
const utf8 = (s: string) => new TextEncoder().encode(s);

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

// Golden rows, computed once with this implementation (float32 values, compared exactly).
const GOLD_ING = {
  0: -0.3387155830860138,
  20: -0.03834407776594162,
  21: 0.42938289046287537,
  62: -0.02101009711623192,
  63: 0.364490270614624,
  127: 0.295494943857193,
};
const GOLD_CLS = {
  0: 0.2665872275829315,
  127: -0.37953370809555054,
  128: -0.2720622420310974,
  383: -0.24964016675949097,
  384: 0.2938915491104126,
  767: 0.4024214744567871,
};
const GOLD_PLAY_SHARED = {
  0: -0.048868920654058456,
  1: 0.1933399885892868,
  64: 0.046388957649469376,
  127: 0.12010686099529266,
};

/**
 * The documented algorithm written the slow, obvious way with the exported murmur3_32: splitmix32 seeds,
 * key_g = murmur3_32(gram, n, seed), value = murmur3_32([key_g], 1, seed_j) mapped to [-1, 1], mean.
 */
function reference(token: string, dim: number, c: HashEmbeddingConfig): Float32Array {
  const seeds: number[] = [];
  let st = c.seed >>> 0;
  for (let j = 0; j < dim; j++) {
    st = (st + 0x9e3779b9) >>> 0;
    let z = Math.imul(st ^ (st >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    seeds.push((z ^ (z >>> 16)) >>> 0);
  }
  const cps = Array.from(token, (ch) => ch.codePointAt(0) as number);
  const blocks = partitionBlocks(dim, c);
  const sum = new Float64Array(dim);
  let total = 0;
  for (let n = c.ngramMin; n <= c.ngramMax; n++) {
    const [start, end] = blocks[n - c.ngramMin];
    const grams = Math.max(0, cps.length - n + 1);
    const block = new Float64Array(dim);
    for (let g = 0; g < grams; g++) {
      const key = murmur3_32(cps.slice(g, g + n), n, c.seed);
      for (let j = start; j < end; j++) block[j] += (murmur3_32([key], 1, seeds[j]) / 4294967295) * 2 - 1;
    }
    for (let j = start; j < end; j++)
      sum[j] += c.partition === 'shared' ? block[j] : grams ? block[j] / grams : 0;
    total += grams;
  }
  if (c.partition === 'shared' && total > 0) for (let j = 0; j < dim; j++) sum[j] /= total;
  return Float32Array.from(sum);
}

const allIn = (x: Float32Array, lo: number, hi: number) => x.every((v) => v >= lo && v <= hi);
const allZero = (x: Float32Array) => x.every((v) => v === 0);

describe('murmur3_32', () => {
  it('matches the published MurmurHash3_x86_32 test vectors', () => {
    assert.equal(murmur3_32Bytes(utf8(''), 0), 0);
    assert.equal(murmur3_32Bytes(utf8(''), 1), 0x514e28b7);
    assert.equal(murmur3_32Bytes(utf8(''), 0xffffffff), 0x81f16f39);
    assert.equal(murmur3_32Bytes(new Uint8Array(4), 0), 0x2362f9de);
    assert.equal(murmur3_32Bytes(utf8('hello'), 0), 0x248bfa47);
    assert.equal(murmur3_32Bytes(utf8('Hello, world!'), 0x9747b28c), 0x24884cba);
    assert.equal(
      murmur3_32Bytes(utf8('The quick brown fox jumps over the lazy dog'), 0x9747b28c),
      0x2fa826cd,
    );
    // every tail length
    const s = 0x9747b28c;
    assert.equal(murmur3_32Bytes(utf8('a'), s), 0x7fa09ea6);
    assert.equal(murmur3_32Bytes(utf8('aa'), s), 0x5d211726);
    assert.equal(murmur3_32Bytes(utf8('aaa'), s), 0x283e0130);
    assert.equal(murmur3_32Bytes(utf8('aaaa'), s), 0x5a97808a);
    assert.equal(murmur3_32Bytes(utf8('ab'), s), 0x74875592);
    assert.equal(murmur3_32Bytes(utf8('abc'), s), 0xc84a62dd);
    assert.equal(murmur3_32Bytes(utf8('abcd'), s), 0xf0478627);
  });

  it('over 32-bit words equals the byte hash of their UTF-32LE encoding', () => {
    for (const s of ['', 'a', '##ing', '[CLS]', 'naïve', '日本', '😀x']) {
      const cps = Array.from(s, (c) => c.codePointAt(0) as number);
      const bytes = new Uint8Array(new Uint32Array(cps).buffer); // little-endian on every supported host
      for (const seed of [0, 1, 0x9747b28c]) {
        assert.equal(murmur3_32(cps, cps.length, seed), murmur3_32Bytes(bytes, seed), `${s} seed ${seed}`);
        assert.equal(murmur3_32(new Uint32Array(cps), cps.length, seed), murmur3_32Bytes(bytes, seed));
      }
    }
  });

  it('hashes only the first len words', () => {
    assert.equal(murmur3_32([104, 105, 999], 2, 7), murmur3_32([104, 105], 2, 7));
  });
});

describe('hashEmbedding', () => {
  it('golden values (changing these changes every trained model)', () => {
    const golden: Array<[string, number, HashEmbeddingConfig, Record<number, number>]> = [
      [
        'playing',
        128,
        cfg,
        {
          0: -0.10110983997583389,
          1: -0.10883080959320068,
          21: 0.036704935133457184,
          127: 0.0848640725016594,
        },
      ],
      ['##ing', 128, cfg, GOLD_ING],
      ['[CLS]', 768, cfg, GOLD_CLS],
      ['play', 128, { ...shared, seed: 42 }, GOLD_PLAY_SHARED],
    ];
    for (const [token, dim, c, want] of golden) {
      const e = hashEmbedding(token, dim, c);
      for (const [j, v] of Object.entries(want)) assert.equal(e[Number(j)], v, `${token} dim ${j}`);
    }
  });

  it('matches the documented algorithm computed the slow way', () => {
    for (const t of ['playing', '##ing', '[CLS]', 'a', 'ab', '', '日本語', '😀a😀']) {
      for (const c of [cfg, shared, { ...cfg, seed: 0xdeadbeef, ngramMin: 2, ngramMax: 5 }]) {
        for (const dim of [1, 7, 128])
          assert.deepEqual(hashEmbedding(t, dim, c), reference(t, dim, c), `${t} ${c.partition} ${dim}`);
      }
    }
  });

  it('is deterministic and within [-1, 1]', () => {
    for (const t of ['playing', '##s', '[MASK]', '[PAD]', 'a', '日本語', '😀😀😀😀']) {
      for (const c of [cfg, shared]) {
        const a = hashEmbedding(t, 768, c);
        assert.ok(allIn(a, -1, 1), t);
        assert.deepEqual(a, hashEmbedding(t, 768, c));
      }
    }
  });

  it('gives strings that share n-grams a higher cosine similarity', () => {
    for (const c of [cfg, shared]) {
      for (const dim of [128, 768]) {
        const playing = hashEmbedding('playing', dim, c);
        const near = cosine(playing, hashEmbedding('played', dim, c));
        const far = cosine(playing, hashEmbedding('zebra', dim, c));
        assert.ok(near > far + 0.2, `${c.partition} d=${dim}: ${near} vs ${far}`);
      }
    }
  });

  it('distinguishes a continuation piece from a word-initial piece', () => {
    const a = hashEmbedding('##ing', 128, cfg);
    const b = hashEmbedding('ing', 128, cfg);
    assert.notDeepEqual(a, b);
    assert.ok(cosine(a, b) < 0.99);
  });

  it('splits dims in proportion to n, remainder to the largest n', () => {
    assert.deepEqual(partitionBlocks(128, cfg), [
      [0, 21],
      [21, 63],
      [63, 128],
    ]);
    assert.deepEqual(partitionBlocks(768, cfg), [
      [0, 128],
      [128, 384],
      [384, 768],
    ]);
    assert.deepEqual(partitionBlocks(100, { ...cfg, ngramMin: 2, ngramMax: 4 }), [
      [0, 22],
      [22, 55],
      [55, 100],
    ]);
    assert.deepEqual(partitionBlocks(128, shared), [
      [0, 128],
      [0, 128],
      [0, 128],
    ]);
  });

  it('leaves the blocks of n-gram sizes longer than the token at 0', () => {
    for (const dim of [128, 768]) {
      const [uni, bi, tri] = partitionBlocks(dim, cfg);
      const one = hashEmbedding('x', dim, cfg);
      assert.ok(!allZero(one.subarray(...uni)));
      assert.ok(one.subarray(...uni).every((v) => v !== 0));
      assert.ok(allZero(one.subarray(bi[0], tri[1])));
      const two = hashEmbedding('xy', dim, cfg);
      assert.ok(two.subarray(bi[0], bi[1]).every((v) => v !== 0));
      assert.ok(allZero(two.subarray(...tri)));
    }
  });

  it('gives the empty string all zeros, no NaN', () => {
    for (const c of [cfg, shared]) {
      const e = hashEmbedding('', 128, c);
      assert.equal(e.length, 128);
      assert.ok(allZero(e));
    }
  });

  it('shared partition: every dim is the mean over all n-grams', () => {
    // "ab" has grams a, b, ab: each dim is the mean of three values, so no dim is 0 and the vector
    // differs from the proportional one.
    const e = hashEmbedding('ab', 64, shared);
    assert.ok(e.every((v) => v !== 0 && v >= -1 && v <= 1));
    assert.notDeepEqual(e, hashEmbedding('ab', 64, cfg));
    // A 1-character token has only its unigram: shared and proportional agree on the unigram block.
    const uni = partitionBlocks(64, cfg)[0];
    assert.deepEqual(
      hashEmbedding('q', 64, shared).subarray(...uni),
      hashEmbedding('q', 64, cfg).subarray(...uni),
    );
  });

  it('changes with the seed', () => {
    assert.notDeepEqual(hashEmbedding('play', 128, cfg), hashEmbedding('play', 128, { ...cfg, seed: 1 }));
  });

  it('rejects a bad dim', () => {
    assert.throws(() => hashEmbedding('a', 0, cfg), RangeError);
    assert.throws(() => hashEmbedding('a', 1.5, cfg), RangeError);
  });
});

describe('hashEmbeddingTable', () => {
  it('rows equal per-token calls', () => {
    const vocab = [
      '[PAD]',
      '[CLS]',
      '',
      'the',
      '##ing',
      'x',
      'supercalifragilisticexpialidocious'.repeat(4),
      '日本',
    ];
    for (const c of [cfg, shared]) {
      const table = hashEmbeddingTable(vocab, 96, c);
      assert.equal(table.length, vocab.length * 96);
      for (const [i, t] of vocab.entries()) {
        assert.deepEqual(table.subarray(i * 96, (i + 1) * 96), hashEmbedding(t, 96, c), t);
      }
    }
  });

  it('is statistically sane over 2,000 random strings', () => {
    const rng = new Rng(1234);
    // A wide alphabet (~1,000 code points): a unigram dim only has one value per distinct character, so
    // over a 26-letter alphabet its mean is itself an average of ~26 uniforms and sits ~0.1 from 0.
    const vocab = Array.from({ length: 2000 }, () => {
      let s = '';
      const len = 1 + rng.int(12);
      for (let i = 0; i < len; i++) s += String.fromCodePoint(0x21 + rng.int(1000));
      return s;
    });
    for (const dim of [128, 768]) {
      const table = hashEmbeddingTable(vocab, dim, cfg);
      assert.ok(allIn(table, -1, 1));
      assert.ok(new Set(table).size > table.length / 4, 'values vary');
      for (let j = 0; j < dim; j++) {
        let mean = 0;
        let sq = 0;
        for (let i = 0; i < vocab.length; i++) mean += table[i * dim + j];
        mean /= vocab.length;
        for (let i = 0; i < vocab.length; i++) sq += (table[i * dim + j] - mean) ** 2;
        assert.ok(Math.abs(mean) < 0.1, `dim ${j} mean ${mean}`);
        assert.ok(Math.sqrt(sq / vocab.length) > 0.1, `dim ${j} has spread`);
      }
    }
  });

  const vocabFile = new URL('../../../shared/data/vocab/bert-base-uncased-vocab.txt', import.meta.url);
  it(
    'builds the 30,522 x 128 BERT table quickly',
    {
      skip: !existsSync(vocabFile) && 'shared vocab not present',
    },
    () => {
      const vocab = readFileSync(vocabFile, 'utf8').replace(/\n$/, '').split('\n');
      assert.equal(vocab.length, 30522);
      const t0 = performance.now();
      const table = hashEmbeddingTable(vocab, 128, cfg);
      const ms = performance.now() - t0;
      console.log(`hashEmbeddingTable 30522 x 128: ${ms.toFixed(0)} ms`);
      assert.equal(table.length, 30522 * 128);
      assert.ok(table.every((v) => Number.isFinite(v) && v >= -1 && v <= 1));
      assert.ok(ms < 3000, `took ${ms} ms`); // ~80 ms measured; generous for a loaded CI machine
    },
  );
});

describe('validateHashConfig', () => {
  it('accepts the default and fills missing fields', () => {
    assert.deepEqual(validateHashConfig({ ...DEFAULT_HASH_CONFIG }, 'config.json'), DEFAULT_HASH_CONFIG);
    assert.deepEqual(validateHashConfig({ ngramMax: 4, partition: 'shared' }, 'config.json'), {
      ...DEFAULT_HASH_CONFIG,
      ngramMax: 4,
      partition: 'shared',
    });
  });

  it('throws a UserError naming the source and field', () => {
    const cases: Array<[unknown, string]> = [
      [{ ngramMin: 0 }, 'ngramMin'],
      [{ ngramMin: 1.5 }, 'ngramMin'],
      [{ ngramMin: 3, ngramMax: 2 }, 'ngramMax'],
      [{ ngramMax: '3' }, 'ngramMax'],
      [{ seed: 0.5 }, 'seed'],
      [{ seed: -1 }, 'seed'],
      [{ seed: 2 ** 32 }, 'seed'],
      [{ partition: 'equal' }, 'partition'],
      [{ hash: 'fnv1a' }, 'hash'],
      [{ ngram_max: 3 }, 'ngram_max'],
    ];
    for (const [bad, field] of cases) {
      assert.throws(
        () => validateHashConfig(bad, 'model/config.json'),
        (e: unknown) =>
          e instanceof UserError &&
          e.message.includes('model/config.json') &&
          e.message.includes(`"${field}"`),
        JSON.stringify(bad),
      );
    }
    for (const bad of [null, 3, [], 'x']) {
      assert.throws(
        () => validateHashConfig(bad, 'flags'),
        (e: unknown) => e instanceof UserError && e.message.includes('flags'),
      );
    }
  });
});

describe('hashEmbedding outside Node (browser-like sandbox)', () => {
  it('gives bit-identical vectors in a V8 context with no Node globals (no process, Buffer, require)', async () => {
    // The module is transpiled as-is and run in a fresh vm context that has only ECMAScript built-ins,
    // as a browser page would. Any use of a Node API would throw here; any engine-dependent arithmetic
    // (floating-point hashing, Math.random, locale) would show as a bit difference.
    const ts = await import('typescript');
    const vm = await import('node:vm');
    const here = new URL('.', import.meta.url);
    const strip = (file: URL) =>
      ts
        .transpileModule(readFileSync(file, 'utf8'), {
          compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
        })
        .outputText.replace(/^import .*$/gm, '')
        .replace(/^export /gm, '');
    const source = `${strip(new URL('../util/errors.ts', here))}\n${strip(new URL('../util/rng.ts', here))}\n${strip(new URL('hash-embedding.ts', here))}
      globalThis.result = tokens.map((t) => Array.from(hashEmbedding(t, 128, DEFAULT_HASH_CONFIG)));`;
    const tokens = ['[CLS]', 'the', '##ing', 'naïve', '東京', '😀x', 'a', '', 'antidisestablishment'];
    const sandbox: Record<string, unknown> = { tokens };
    vm.createContext(sandbox);
    assert.equal(
      vm.runInContext('typeof process + typeof Buffer + typeof require', sandbox),
      'undefinedundefinedundefined',
    );
    vm.runInContext(source, sandbox);
    const got = sandbox.result as number[][];
    tokens.forEach((t, i) => {
      const want = hashEmbedding(t, 128, cfg);
      assert.deepEqual(Float32Array.from(got[i]), want, `token ${JSON.stringify(t)}`);
    });
  });
});

describe('embedding variants: boundary markers and a whole-token component', () => {
  const base = { ...DEFAULT_HASH_CONFIG };
  const d = 64;

  it('boundaries: word-initial pieces get `<`, `##` pieces lose `##`, special tokens stay', () => {
    assert.equal(boundaryForm('ing'), '<ing');
    assert.equal(boundaryForm('##ing'), 'ing');
    assert.equal(boundaryForm('[CLS]'), '[CLS]');
    assert.equal(boundaryForm('##'), '<##');
    const b = { ...base, boundaries: true };
    // With markers, '##ing' hashes as plain 'ing' did, and 'ing' as '<ing'.
    assert.deepEqual(hashEmbedding('##ing', d, b), hashEmbedding('ing', d, base));
    assert.deepEqual(hashEmbedding('ing', d, b), hashEmbedding('<ing', d, base));
    assert.deepEqual(hashEmbedding('[SEP]', d, b), hashEmbedding('[SEP]', d, base));
  });

  it('wholeToken: the last dims are the whole piece as one gram; the n-grams share the rest', () => {
    const w = { ...base, wholeToken: 0.25 };
    const v = hashEmbedding('cats', d, w);
    // The n-gram part equals the plain embedding at the smaller size.
    assert.deepEqual(v.subarray(0, 48), hashEmbedding('cats', 48, base));
    // The whole-token part: per dim j, murmur3_32([murmur3_32(codes, 4, seed)], 1, seed_j) mapped to [-1, 1]
    // -- the same value the n-gram of size 4 ('cats' itself) takes in a 4-gram-only embedding's dims.
    const only4 = hashEmbedding('cats', d, { ...base, ngramMin: 4, ngramMax: 4 });
    assert.deepEqual(v.subarray(48), only4.subarray(48));
    // Every piece of the BERT vocabulary stays distinct, and two pieces sharing all their n-grams' means
    // still differ in the whole-token dims.
    assert.notDeepEqual(hashEmbedding('abab', d, w).subarray(48), hashEmbedding('baba', d, w).subarray(48));
    assert.deepEqual(hashEmbedding('', d, w), new Float32Array(d));
  });

  it('the defaults leave the table unchanged and are not written into config.json', () => {
    const v = validateHashConfig({}, 'config.json');
    assert.deepEqual(v, DEFAULT_HASH_CONFIG);
    assert.deepEqual(validateHashConfig({ boundaries: true, wholeToken: 0.1 }, 'c'), {
      ...DEFAULT_HASH_CONFIG,
      boundaries: true,
      wholeToken: 0.1,
    });
    assert.throws(
      () => validateHashConfig({ wholeToken: 1 }, 'c.json'),
      /c\.json: hash embedding field "wholeToken" must be a number in \[0, 1\)/,
    );
    assert.throws(
      () => validateHashConfig({ boundaries: 'yes' }, 'c.json'),
      /"boundaries" must be true or false/,
    );
  });
});
