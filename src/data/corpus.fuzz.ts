/**
 * Fuzz targets for the token cache reader (corpus.ts: readTokenCacheHeader, loadTokenCache) with the
 * shipped vocabulary; run by corpus.fuzz.test.ts and bench/fuzz.ts. Files go to a temp dir that is
 * removed when the process exits.
 *
 * Inputs: random bytes and random JSON header lines; a valid cache (built once by tokenizeCorpus) with
 * mutated header fields, flipped bytes, truncated or extended data, a lost newline; caches whose
 * checksum and count were recomputed over random tokens; and a directory where the cache should be.
 * Checked: success or a one-line UserError starting with the cache path; a header that reads has the
 * documented field types and ends in a newline inside the file; a cache that loads has `count` tokens,
 * each id below the vocabulary size, and the unmodified cache loads to exactly the tokens written.
 */
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BertTokenizer } from '../text/wordpiece.js';
import {
  anyText,
  check,
  expectUserErrorOrSuccess,
  expectUserErrorOrSuccessAsync,
  fuzzTarget,
  ODD_CHARS,
  type SomeFuzzTarget,
  textOver,
} from '../util/fuzzing.js';
import {
  corpusTokens,
  ID_MASK,
  loadTokenCache,
  readTokenCacheHeader,
  TOKEN_CACHE_MAGIC,
  tokenCachePath,
  tokenizeCorpus,
} from './corpus.js';
import { readVocabFile } from '../text/vocab-file.js';

const VOCAB = fileURLToPath(new URL('../../assets/bert-base-uncased-vocab.txt', import.meta.url));

interface Setup {
  dir: string;
  tok: BertTokenizer;
  source: string;
  /** The valid cache's bytes, header object, header length and tokens. */
  good: Buffer;
  header: Record<string, unknown>;
  headerBytes: number;
  tokens: Uint16Array;
}

let setup: Promise<Setup> | undefined;

/** Temp dir, tokenizer, a source text and its valid token cache; made once per process. */
function fixture(): Promise<Setup> {
  setup ??= (async () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'minnow-corpus-fuzz-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const tok = readVocabFile(VOCAB);
    const source = join(dir, 'source.txt');
    fs.writeFileSync(
      source,
      'The quick brown fox jumps over the lazy dog.\nUnaffable embeddings, naïve café!\n',
    );
    const cache = join(dir, 'good.tokens');
    const built = await tokenizeCorpus(source, tok, cache);
    const good = fs.readFileSync(cache);
    const headerBytes = good.indexOf(10) + 1;
    const header = JSON.parse(good.subarray(0, headerBytes).toString('utf8')) as Record<string, unknown>;
    return { dir, tok, source, good, header, headerBytes, tokens: built.tokens };
  })();
  return setup;
}

function headerLine(header: Record<string, unknown>): Buffer {
  const json = JSON.stringify(header);
  const len = Buffer.byteLength(json, 'utf8') + 1;
  return Buffer.from(`${json}${' '.repeat((8 - (len % 8)) % 8)}\n`, 'utf8');
}

function leBytes(tokens: Uint16Array): Buffer {
  const out = Buffer.alloc(tokens.length * 2);
  for (let i = 0; i < tokens.length; i++) out.writeUInt16LE(tokens[i], 2 * i);
  return out;
}

/** How the cache file is made for one case. */
type CacheCase =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'header-text'; line: string; data: Uint8Array }
  | { kind: 'mutate'; field: string; value: unknown; remove: boolean }
  | { kind: 'flip'; at: number; bits: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'no-newline' }
  | { kind: 'recount'; tokens: number[] }
  | { kind: 'directory' }
  | { kind: 'missing' }
  | { kind: 'good' };

const FIELDS = [
  'magic',
  'vocabSize',
  'vocabSha256',
  'source',
  'sourceSize',
  'sourceMtimeMs',
  'count',
  'lines',
  'dataSha256',
  'extra',
  '__proto__',
];

const nastyValue = fc.oneof(
  fc.constantFrom<unknown>(
    -1,
    -0,
    0,
    1,
    1.5,
    2 ** 53,
    2 ** 53 + 2,
    1e308,
    '',
    '0',
    TOKEN_CACHE_MAGIC,
    'minnow-tokens/2',
    'f'.repeat(64),
    'F'.repeat(64),
    'f'.repeat(63),
    null,
    true,
    [],
    {},
  ),
  fc.jsonValue({ maxDepth: 2 }),
);

const caseArb: fc.Arbitrary<CacheCase> = fc.oneof(
  fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 200 }) }),
  fc.record({
    kind: fc.constant('header-text' as const),
    line: fc.oneof(
      fc.json({ maxDepth: 2 }),
      anyText(40),
      textOver(['{', '}', '"', ':', ',', '0', 'magic', TOKEN_CACHE_MAGIC, ' ', ...ODD_CHARS], 40),
    ),
    data: fc.uint8Array({ maxLength: 32 }),
  }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('mutate' as const),
      field: fc.constantFrom(...FIELDS),
      value: nastyValue,
      remove: fc.boolean(),
    }),
  },
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
  fc.constant({ kind: 'no-newline' as const }),
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('recount' as const),
      tokens: fc.array(
        fc.oneof(
          fc.integer({ min: 0, max: 0xffff }),
          fc.integer({ min: 0, max: 30521 }).map((i) => i | 0x8000),
        ),
        { maxLength: 40 },
      ),
    }),
  },
  fc.constant({ kind: 'directory' as const }),
  fc.constant({ kind: 'missing' as const }),
  fc.constant({ kind: 'good' as const }),
);

/** Write the case's cache file (or directory) at `path` (default: a file per kind in the temp dir). */
function makeCache(s: Setup, c: CacheCase, path = join(s.dir, `case.${c.kind}.tokens`)): string {
  const write = (...parts: Uint8Array[]) => fs.writeFileSync(path, Buffer.concat(parts));
  switch (c.kind) {
    case 'bytes':
      write(c.bytes);
      break;
    case 'header-text':
      write(Buffer.from(`${c.line}\n`, 'utf8'), c.data);
      break;
    case 'mutate': {
      const h: Record<string, unknown> = { ...s.header };
      if (c.remove) delete h[c.field];
      else
        Object.defineProperty(h, c.field, {
          value: c.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      write(headerLine(h), s.good.subarray(s.headerBytes));
      break;
    }
    case 'flip': {
      const b = Buffer.from(s.good);
      b[c.at % b.length] ^= c.bits;
      write(b);
      break;
    }
    case 'truncate':
      write(s.good.subarray(0, c.keep % s.good.length));
      break;
    case 'append':
      write(s.good, c.bytes);
      break;
    case 'no-newline': {
      const b = Buffer.from(s.good);
      b[s.headerBytes - 1] = 0x20;
      write(b);
      break;
    }
    case 'recount': {
      const data = leBytes(Uint16Array.from(c.tokens));
      const h = {
        ...s.header,
        count: c.tokens.length,
        dataSha256: createHash('sha256').update(data).digest('hex'),
      };
      write(headerLine(h), data);
      break;
    }
    case 'directory':
      fs.mkdirSync(path, { recursive: true });
      break;
    case 'missing':
      fs.rmSync(path, { force: true });
      break;
    case 'good':
      write(s.good);
      break;
  }
  return path;
}

const COUNT_FIELDS = ['vocabSize', 'sourceSize', 'count', 'lines'];

/**
 * corpusTokens over the case's cache: it must load a good cache or rebuild a bad one, giving the tokens
 * of the source (a recounted cache has a valid checksum, so it is trusted), or throw a UserError.
 */
async function checkCorpusTokens(s: Setup, c: CacheCase): Promise<void> {
  const cacheDir = join(s.dir, `corpus-tokens.${c.kind}`);
  fs.rmSync(cacheDir, { recursive: true, force: true });
  const path = tokenCachePath(s.source, s.tok, cacheDir);
  fs.mkdirSync(cacheDir, { recursive: true });
  makeCache(s, c, path);
  const out = await expectUserErrorOrSuccessAsync(() => corpusTokens(s.source, s.tok, cacheDir), {
    prefix: path,
  });
  if (!out.ok) {
    check(
      c.kind === 'directory',
      () => `corpusTokens did not rebuild a bad cache: ${out.ok || out.error.message}`,
    );
    return;
  }
  if (c.kind === 'good') check(!out.value.built, 'a valid cache was rebuilt');
  if (c.kind !== 'recount')
    check(
      Buffer.compare(leBytes(out.value.tokens), leBytes(s.tokens)) === 0,
      'corpusTokens gave other tokens',
    );
}

async function checkCache(c: CacheCase & { viaCorpusTokens?: boolean }): Promise<void> {
  const s = await fixture();
  if (c.viaCorpusTokens) return checkCorpusTokens(s, c);
  const path = makeCache(s, c);
  const rules = { prefix: path };
  const head = expectUserErrorOrSuccess(() => readTokenCacheHeader(path), rules);
  if (head.ok) {
    const { header, headerBytes } = head.value;
    check(header.magic === TOKEN_CACHE_MAGIC, 'header read with a wrong magic');
    for (const k of COUNT_FIELDS) {
      const v = (header as unknown as Record<string, unknown>)[k];
      check(
        typeof v === 'number' && Number.isSafeInteger(v) && v >= 0,
        () => `header field ${k} = ${String(v)}`,
      );
    }
    check(Number.isFinite(header.sourceMtimeMs), 'sourceMtimeMs not finite');
    check(
      /^[0-9a-f]{64}$/.test(header.vocabSha256) && /^[0-9a-f]{64}$/.test(header.dataSha256),
      'bad sha256',
    );
    check(typeof header.source === 'string', 'source not a string');
    const bytes = fs.readFileSync(path);
    check(
      headerBytes >= 1 && headerBytes <= bytes.length && bytes[headerBytes - 1] === 10,
      'header end misplaced',
    );
  }
  const loaded = expectUserErrorOrSuccess(() => loadTokenCache(path, s.source, s.tok), rules);
  if (!loaded.ok || loaded.value === undefined) {
    check(
      c.kind !== 'good',
      () => `the valid cache did not load: ${loaded.ok ? 'stale' : loaded.error.message}`,
    );
    return;
  }
  check(head.ok, 'a cache loaded whose header does not read');
  const { tokens, count } = loaded.value;
  check(tokens.length === count, () => `${tokens.length} tokens, count ${count}`);
  for (let i = 0; i < tokens.length; i++) {
    const id = tokens[i] & ID_MASK;
    check(
      id < s.tok.vocabSize,
      () => `token ${i} has id ${id}, not below the vocabulary size ${s.tok.vocabSize}`,
    );
  }
  if (c.kind === 'good')
    check(Buffer.compare(leBytes(tokens), leBytes(s.tokens)) === 0, 'valid cache loads other tokens');
}

export const CORPUS_FUZZ: SomeFuzzTarget[] = [
  fuzzTarget({
    name: 'corpus: token cache files',
    arbitrary: fc.tuple(caseArb, fc.nat(3)).map(([c, k]) => ({ ...c, viaCorpusTokens: k === 0 })),
    predicate: checkCache,
  }),
];
