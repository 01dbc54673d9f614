/** Token cache and sequence sampler, on small texts in a temp dir with the shipped BERT vocabulary. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BertTokenizer } from '../text/wordpiece.js';
import { UserError } from '../util/errors.js';
import {
  corpusTokens,
  ID_MASK,
  loadTokenCache,
  readTokenCacheHeader,
  SequenceSampler,
  TOKEN_CACHE_MAGIC,
  tokenCachePath,
  tokenizeCorpus,
  vocabHash,
  WORD_START,
} from './corpus.js';
import { readVocabFile } from '../text/vocab-file.js';

const VOCAB = fileURLToPath(new URL('../../assets/bert-base-uncased-vocab.txt', import.meta.url));
const tok = readVocabFile(VOCAB);
const dir = mkdtempSync(join(tmpdir(), 'minnow-corpus-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function textFile(contents: string): string {
  const p = join(dir, `text-${fileNo++}.txt`);
  writeFileSync(p, contents);
  return p;
}

/** Tokens of a text the obvious way: every line through encodePieces, word-start bit from wordIds. */
function reference(contents: string): number[] {
  const out: number[] = [];
  for (const line of contents.split('\n')) {
    const { ids, wordIds } = tok.encodePieces(line);
    for (let i = 0; i < ids.length; i++)
      out.push(i === 0 || wordIds[i] !== wordIds[i - 1] ? ids[i] | WORD_START : ids[i]);
  }
  return out;
}

function throwsUser(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

const SAMPLE = [
  'He was unaffable, and the embeddings gave a hypothermia.',
  '',
  'Café naïve façade — “quoted” words\r',
  '   ',
  'The quick brown fox jumps over the lazy dog. Don’t stop!',
  'A last line without a newline',
].join('\n');

test('word-start bits: multi-piece words keep the bit on the first piece only', async () => {
  const src = textFile('He was unaffable, and the embeddings\n');
  const { tokens } = await tokenizeCorpus(src, tok, join(dir, 'ws.tokens'));
  const pieces = Array.from(tokens, (t) => tok.tokenOf(t & ID_MASK));
  assert.deepEqual(pieces, [
    'he',
    'was',
    'una',
    '##ffa',
    '##ble',
    ',',
    'and',
    'the',
    'em',
    '##bed',
    '##ding',
    '##s',
  ]);
  const starts = Array.from(tokens, (t) => (t & WORD_START ? 1 : 0));
  assert.deepEqual(starts, [1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0]);
});

test('tokenizeCorpus: lines concatenated in order, independent of chunking; progress reported', async () => {
  const src = textFile(SAMPLE);
  const expected = reference(SAMPLE);
  const progress: [number, number][] = [];
  const big = await tokenizeCorpus(src, tok, join(dir, 'a.tokens'), {
    onProgress: (d, t) => progress.push([d, t]),
  });
  assert.deepEqual(Array.from(big.tokens), expected);
  assert.equal(big.count, expected.length);
  assert.equal(big.lines, 4);
  // Tiny chunks split lines and multi-byte characters across reads.
  for (const chunkBytes of [1, 3, 7, 64]) {
    const small = await tokenizeCorpus(src, tok, join(dir, `a${chunkBytes}.tokens`), { chunkBytes });
    assert.deepEqual(Array.from(small.tokens), expected, `chunkBytes ${chunkBytes}`);
  }
  const size = statSync(src).size;
  assert.ok(progress.length >= 1);
  assert.deepEqual(progress[progress.length - 1], [size, size]);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i][0] >= progress[i - 1][0]);
});

test('token cache round trip: header fields and tokens', async () => {
  const src = textFile(SAMPLE);
  const cache = join(dir, 'rt', 'nested', 'b.tokens');
  const built = await tokenizeCorpus(src, tok, cache);
  const { header, headerBytes } = readTokenCacheHeader(cache);
  assert.equal(header.magic, TOKEN_CACHE_MAGIC);
  assert.equal(header.vocabSize, tok.vocabSize);
  assert.equal(header.vocabSha256, vocabHash(tok));
  assert.equal(header.count, built.count);
  assert.equal(header.sourceSize, statSync(src).size);
  assert.equal(headerBytes % 8, 0);
  assert.equal(statSync(cache).size, headerBytes + 2 * built.count);
  const loaded = loadTokenCache(cache, src, tok);
  assert.ok(loaded);
  assert.equal(loaded.count, built.count);
  assert.deepEqual(loaded.tokens, built.tokens);
  assert.equal(loadTokenCache(join(dir, 'missing.tokens'), src, tok), undefined);
});

test('empty text gives an empty cache', async () => {
  const src = textFile('\n\n  \n');
  const cache = join(dir, 'empty.tokens');
  const built = await tokenizeCorpus(src, tok, cache);
  assert.equal(built.count, 0);
  assert.deepEqual(loadTokenCache(cache, src, tok), {
    tokens: new Uint16Array(0),
    count: 0,
  });
});

test('token cache is stale when the source size or mtime changes, or the vocabulary differs', async () => {
  const src = textFile(SAMPLE);
  const cache = join(dir, 'c.tokens');
  await tokenizeCorpus(src, tok, cache);
  assert.ok(loadTokenCache(cache, src, tok));

  // Same size, different mtime.
  const st = statSync(src);
  utimesSync(src, st.atime, new Date(st.mtimeMs + 5000));
  assert.equal(loadTokenCache(cache, src, tok), undefined);
  await tokenizeCorpus(src, tok, cache);
  assert.ok(loadTokenCache(cache, src, tok));

  // Different size, mtime put back.
  const st2 = statSync(src);
  writeFileSync(src, `${SAMPLE}\nmore text`);
  utimesSync(src, st2.atime, st2.mtime);
  assert.equal(loadTokenCache(cache, src, tok), undefined);
  await tokenizeCorpus(src, tok, cache);
  assert.ok(loadTokenCache(cache, src, tok));

  // Same size, one token renamed.
  const lines = BertTokenizer.parseVocab(readFileSync(VOCAB, 'utf8'));
  lines[lines.length - 1] = '##zz';
  const other = new BertTokenizer(lines);
  assert.notEqual(vocabHash(other), vocabHash(tok));
  assert.equal(loadTokenCache(cache, src, other), undefined);
  assert.notEqual(tokenCachePath(src, other, dir), tokenCachePath(src, tok, dir));

  // Missing source: nothing to check the cache against.
  rmSync(src);
  assert.equal(loadTokenCache(cache, src, tok), undefined);
});

test('corrupt or truncated token cache is a UserError naming the file', async () => {
  const src = textFile(SAMPLE);
  const cache = join(dir, 'd.tokens');
  await tokenizeCorpus(src, tok, cache);
  const good = readFileSync(cache);
  const { headerBytes } = readTokenCacheHeader(cache);

  writeFileSync(cache, good.subarray(0, good.length - 2));
  throwsUser(() => loadTokenCache(cache, src, tok), /d\.tokens/, /corrupt/, /truncated/);

  const flipped = Buffer.from(good);
  flipped[headerBytes + 3] ^= 0x01;
  writeFileSync(cache, flipped);
  throwsUser(() => loadTokenCache(cache, src, tok), /d\.tokens/, /checksum/);

  writeFileSync(cache, good.subarray(0, 20));
  throwsUser(() => loadTokenCache(cache, src, tok), /d\.tokens/, /header/);

  writeFileSync(cache, '');
  throwsUser(() => loadTokenCache(cache, src, tok), /d\.tokens/);

  const badMagic = Buffer.from(good);
  badMagic.write('X', good.indexOf('minnow-tokens'), 'latin1');
  writeFileSync(cache, badMagic);
  throwsUser(() => loadTokenCache(cache, src, tok), /d\.tokens/, /magic/);

  writeFileSync(cache, `{"magic":"${TOKEN_CACHE_MAGIC}","count":"many"}\n`);
  throwsUser(() => loadTokenCache(cache, src, tok), /d\.tokens/, /not a count/);
});

test('a directory where the token cache goes is a UserError, not EISDIR (fuzz regression)', async () => {
  const src = textFile(SAMPLE);
  const cache = join(dir, 'is-a-dir.tokens');
  mkdirSync(cache);
  throwsUser(() => readTokenCacheHeader(cache), /is-a-dir\.tokens: cannot read token cache \(EISDIR\)/);
  throwsUser(() => loadTokenCache(cache, src, tok), /is-a-dir\.tokens/);
  // corpusTokens reports it as a corrupt cache, then cannot write the rebuilt one over it.
  const cacheDir = join(dir, 'dir-cache');
  const cachePath = tokenCachePath(src, tok, cacheDir);
  mkdirSync(cachePath, { recursive: true });
  const corrupt: UserError[] = [];
  await assert.rejects(
    corpusTokens(src, tok, cacheDir, { onCorruptCache: (e) => corrupt.push(e) }),
    (e: unknown) => {
      assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
      assert.equal(e.message, `${cachePath}: cannot write token cache (EISDIR)`);
      return true;
    },
  );
  assert.equal(corrupt.length, 1);
});

test('a cache with an id beyond the vocabulary is corrupt even when its checksum matches (fuzz regression)', async () => {
  const src = textFile(SAMPLE);
  const cache = join(dir, 'big-id.tokens');
  await tokenizeCorpus(src, tok, cache);
  const { header } = readTokenCacheHeader(cache);
  const data = Buffer.alloc(4);
  data.writeUInt16LE(101 | WORD_START, 0);
  data.writeUInt16LE(31295, 2); // > 30521, the last id of the vocabulary
  const sha = createHash('sha256').update(data).digest('hex');
  writeFileSync(
    cache,
    Buffer.concat([Buffer.from(`${JSON.stringify({ ...header, count: 2, dataSha256: sha })}\n`), data]),
  );
  throwsUser(
    () => loadTokenCache(cache, src, tok),
    /big-id\.tokens: corrupt token cache \(token 1 has id 31295, not below the vocabulary size 30522\)/,
  );
});

test('corpusTokens builds, then loads, and rebuilds a corrupt cache', async () => {
  const src = textFile(SAMPLE);
  const cacheDir = join(dir, 'cache-dir');
  const first = await corpusTokens(src, tok, cacheDir);
  assert.equal(first.built, true);
  assert.equal(first.cachePath, tokenCachePath(src, tok, cacheDir));
  assert.ok(existsSync(first.cachePath));
  const second = await corpusTokens(src, tok, cacheDir);
  assert.equal(second.built, false);
  assert.deepEqual(second.tokens, first.tokens);

  writeFileSync(first.cachePath, 'garbage');
  const errors: UserError[] = [];
  const third = await corpusTokens(src, tok, cacheDir, {
    onCorruptCache: (e) => errors.push(e),
  });
  assert.equal(third.built, true);
  assert.equal(errors.length, 1);
  assert.deepEqual(third.tokens, first.tokens);
  assert.ok(loadTokenCache(first.cachePath, src, tok));
});

test('tokenizeCorpus: missing text and oversized vocabulary are UserErrors', async () => {
  await assert.rejects(tokenizeCorpus(join(dir, 'nope.txt'), tok, join(dir, 'x.tokens')), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /nope\.txt/);
    return true;
  });
  const lines = BertTokenizer.parseVocab(readFileSync(VOCAB, 'utf8'));
  for (let i = lines.length; i <= 32768; i++) lines.push(`extra${i}`);
  const huge = new BertTokenizer(lines);
  await assert.rejects(tokenizeCorpus(textFile('hello'), huge, join(dir, 'y.tokens')), /32768/);
});

// ---------------------------------------------------------------------------------------------

/** A synthetic stream: token i has id 1000 + i % 20000, word starts on every third token. */
function synthetic(n: number): Uint16Array {
  const t = new Uint16Array(n);
  for (let i = 0; i < n; i++) t[i] = (1000 + (i % 20000)) | (i % 3 === 0 ? WORD_START : 0);
  return t;
}

test('sampler: windows framed as [CLS] window [SEP], partial last window dropped', () => {
  const tokens = synthetic(1005);
  const s = new SequenceSampler(tokens, 12, 1);
  assert.equal(s.windowLen, 10);
  assert.equal(s.windowsPerEpoch, 100);
  assert.equal(s.tokensPerEpoch, 1000);
  for (const w of [0, 37, 99]) {
    const { ids, wordStart } = s.sequence(w);
    assert.equal(ids.length, 12);
    assert.equal(ids[0], tok.clsId);
    assert.equal(ids[11], tok.sepId);
    assert.equal(wordStart[0], 0);
    assert.equal(wordStart[11], 0);
    for (let i = 0; i < 10; i++) {
      assert.equal(ids[i + 1], tokens[w * 10 + i] & ID_MASK);
      assert.equal(wordStart[i + 1], (w * 10 + i) % 3 === 0 ? 1 : 0);
    }
  }
  assert.throws(() => s.sequence(100), RangeError);
  throwsUser(() => new SequenceSampler(tokens, 2, 1), /seqLen/);
  throwsUser(() => new SequenceSampler(synthetic(9), 12, 1), /fewer than one sequence/);
});

test('sampler: every window exactly once per epoch, a different order each epoch', () => {
  const s = new SequenceSampler(synthetic(1000), 12, 7);
  const W = s.windowsPerEpoch;
  const B = 7; // does not divide W: batches straddle epochs
  const seen = [new Map<number, number>(), new Map<number, number>(), new Map<number, number>()];
  const orders: number[][] = [[], [], []];
  const steps = Math.floor((3 * W) / B);
  for (let step = 0; step < steps; step++) {
    const batch = s.batch(step, B);
    assert.equal(batch.length, B);
    for (const seq of batch) {
      assert.equal(seq.ids[1], 1000 + seq.window * 10);
      seen[seq.epoch].set(seq.window, (seen[seq.epoch].get(seq.window) ?? 0) + 1);
      orders[seq.epoch].push(seq.window);
    }
  }
  for (let e = 0; e < 2; e++) {
    assert.equal(seen[e].size, W);
    for (const c of seen[e].values()) assert.equal(c, 1);
  }
  assert.notDeepEqual(orders[0], orders[1]);
  assert.notDeepEqual(orders[0].slice(0, 20), orders[2].slice(0, 20));
  assert.notDeepEqual(
    orders[0],
    Array.from({ length: W }, (_, i) => i),
  );
  assert.equal(s.stepsPerEpoch(B), 15);
  // The order of an epoch is what batch() walks through.
  assert.deepEqual(Array.from(s.order(1)), orders[1]);
  // Another seed, another order.
  const t = new SequenceSampler(synthetic(1000), 12, 8);
  assert.notDeepEqual(Array.from(t.order(0)), Array.from(s.order(0)));
});

test('sampler: batch(step) is a pure function of the step (resume gets the same batches)', () => {
  const tokens = synthetic(5000);
  const a = new SequenceSampler(tokens, 34, 42);
  const want = Array.from({ length: 40 }, (_, k) => a.batch(k, 9));
  // Uninterrupted, repeated, backwards and from a fresh sampler: all equal.
  for (let k = 39; k >= 0; k--) assert.deepEqual(a.batch(k, 9), want[k]);
  const b = new SequenceSampler(tokens, 34, 42);
  for (const k of [25, 3, 39, 0, 17]) assert.deepEqual(b.batch(k, 9), want[k]);
  assert.deepEqual(
    b.locate(25, 9).map((x) => x.window),
    want[25].map((x) => x.window),
  );
  assert.notDeepEqual(want[0], want[1]);
});
