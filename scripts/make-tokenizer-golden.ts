/**
 * Writes test/fixtures/tokenizer-golden.json: inputs and the reference BERT uncased tokenization of them.
 *
 *   node --import tsx scripts/make-tokenizer-golden.ts [SHARED_DATA_DIR] [OUT]
 *
 * SHARED_DATA_DIR (default ../shared/data from the repository root) must hold vocab/bert-base-uncased-*
 * and glue/{SST-2,CoLA,MRPC,RTE,STS-B,WNLI}/{train,dev}.tsv. Those are only needed to regenerate the
 * fixture; the test reads the fixture alone.
 *
 * The reference is the BertTokenizer of @huggingface/transformers built offline from the
 * bert-base-uncased tokenizer.json. Its ids are stored verbatim for untruncated encodings. It does
 * not truncate pairs the Hugging Face way (it cuts the concatenation, [SEP] included), so for cases with
 * max_length the script takes the reference's word pieces of each text (checked against its
 * untruncated pair encoding) and truncates them by the rules of Hugging Face tokenizers'
 * `truncate_encodings` (longest_first), written out below independently of src/text/wordpiece.ts.
 *
 * Inputs are chosen deterministically: whole dev sets, every train sentence with a non-ASCII character,
 * the longest train sentences and pairs, and hand-written adversarial strings.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { env, BertTokenizer as HfBertTokenizer } from '@huggingface/transformers';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = resolve(root, process.argv[2] ?? '../shared/data');
const outPath = resolve(root, process.argv[3] ?? 'test/fixtures/tokenizer-golden.json');

env.allowRemoteModels = false;
env.allowLocalModels = false;

const tokenizerJson = JSON.parse(readFileSync(`${dataDir}/vocab/bert-base-uncased-tokenizer.json`, 'utf8'));
const tokenizerConfig = {
  do_lower_case: true,
  model_max_length: 512,
  tokenize_chinese_chars: true,
  strip_accents: null,
  cls_token: '[CLS]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  mask_token: '[MASK]',
  unk_token: '[UNK]',
};

interface RefCall {
  _call(
    text: string,
    opts: { text_pair?: string | null; return_tensor: false; truncation: false },
  ): { input_ids: number[]; token_type_ids: number[] };
  encode(text: string, opts: { add_special_tokens: boolean }): number[];
}
const ref = new HfBertTokenizer(tokenizerJson, tokenizerConfig) as unknown as RefCall;
const CLS = 101;
const SEP = 102;

// ---------------------------------------------------------------------------------------------
// GLUE readers: split on \n and \t only (quotes are data).

function rows(task: string, split: string, header: boolean): string[][] {
  const text = readFileSync(`${dataDir}/glue/${task}/${split}.tsv`, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(header ? 1 : 0).map((l) => l.split('\t'));
}

function columns(task: string, split: string): { single: string[]; pairs: [string, string][] } {
  switch (task) {
    case 'SST-2':
      return { single: rows(task, split, true).map((r) => r[0]), pairs: [] };
    case 'CoLA':
      return { single: rows(task, split, false).map((r) => r[3]), pairs: [] };
    case 'MRPC':
      return { single: [], pairs: rows(task, split, true).map((r) => [r[3], r[4]]) };
    case 'STS-B':
      return { single: [], pairs: rows(task, split, true).map((r) => [r[7], r[8]]) };
    case 'RTE':
    case 'WNLI':
      return { single: [], pairs: rows(task, split, true).map((r) => [r[1], r[2]]) };
    default:
      throw new Error(`unknown task ${task}`);
  }
}

const nonAscii = (s: string) => /[\u0080-\uffff]/.test(s);
const TASKS = ['SST-2', 'CoLA', 'MRPC', 'RTE', 'STS-B', 'WNLI'];

// ---------------------------------------------------------------------------------------------
// Selection.

const singles: string[] = [];
const seenSingle = new Set<string>();
const addSingle = (s: string) => {
  if (s === undefined || seenSingle.has(s)) return;
  seenSingle.add(s);
  singles.push(s);
};

const pairs: [string, string][] = [];
const seenPair = new Set<string>();
const addPair = (a: string, b: string) => {
  if (a === undefined || b === undefined || b === '') return; // the reference treats b = '' as no pair
  const key = `${a}\t${b}`;
  if (seenPair.has(key)) return;
  seenPair.add(key);
  pairs.push([a, b]);
};

// Singles: whole SST-2 and CoLA dev sets.
for (const s of columns('SST-2', 'dev').single) addSingle(s);
for (const s of columns('CoLA', 'dev').single) addSingle(s);
// Train sentences of every task (both sides of pairs).
const allTrain: string[] = [];
for (const task of TASKS) {
  const { single, pairs: p } = columns(task, 'train');
  allTrain.push(...single);
  for (const [a, b] of p) allTrain.push(a, b);
}
// Every train sentence with a character beyond Latin-1, and every 3rd with only Latin-1 accents.
const rare = (s: string) => /[\u0100-\uffff]/.test(s);
allTrain
  .filter((s) => nonAscii(s) && !rare(s))
  .forEach((s, i) => {
    if (i % 3 === 0) addSingle(s);
  });
for (const s of allTrain) if (rare(s)) addSingle(s);
// The 40 longest train sentences.
const byLength = [...new Set(allTrain)].sort((x, y) => y.length - x.length || (x < y ? -1 : 1));
for (const s of byLength.slice(0, 40)) addSingle(s);
// A sample of SST-2 train (every 1000th sentence).
columns('SST-2', 'train').single.forEach((s, i) => {
  if (i % 1000 === 0) addSingle(s);
});

// Pairs: whole MRPC and WNLI dev sets, every 2nd RTE dev pair, every 10th STS-B dev pair, train pairs
// with non-ASCII characters (all beyond Latin-1, every 2nd otherwise), the 15 longest RTE train pairs,
// and RTE dev texts paired with themselves (ties when truncating) and swapped.
for (const [a, b] of columns('MRPC', 'dev').pairs) addPair(a, b);
columns('RTE', 'dev').pairs.forEach(([a, b], i) => {
  if (i % 2 === 0) addPair(a, b);
});
for (const [a, b] of columns('WNLI', 'dev').pairs) addPair(a, b);
columns('STS-B', 'dev').pairs.forEach(([a, b], i) => {
  if (i % 10 === 0) addPair(a, b);
});
for (const task of ['MRPC', 'RTE', 'STS-B', 'WNLI']) {
  columns(task, 'train')
    .pairs.filter(([a, b]) => nonAscii(a) || nonAscii(b))
    .forEach(([a, b], i) => {
      if (i % 2 === 0 || rare(a) || rare(b)) addPair(a, b);
    });
}
const rteTrain = columns('RTE', 'train').pairs.slice();
rteTrain.sort((x, y) => y[0].length + y[1].length - (x[0].length + x[1].length) || (x[0] < y[0] ? -1 : 1));
for (const [a, b] of rteTrain.slice(0, 15)) addPair(a, b);
const rteDev = columns('RTE', 'dev').pairs;
for (let i = 0; i < 12; i++) {
  const [a, b] = rteDev[i * 11];
  addPair(a, a);
  addPair(b, a);
}

// Hand-written adversarial strings.
const LONG = 'pneumonoultramicroscopicsilicovolcanoconiosis';
const adversarial = [
  '',
  ' ',
  '   \t\n  \r\n ',
  '!!!',
  '?!...,;:"\'()[]{}<>/\\|@#$%^&*-_=+`~',
  '..."',
  'Hello\tworld\nnew\r\nline\ttab',
  'col1\tcol2\tcol3\nrow2a\trow2b',
  'a\u0000b\u0001c\u007fd\u0085e\u000bf\u000cg\u001bh',
  'bad \ufffd replacement \ufffdchar',
  'zero\u200bwidth\u200cnon\u200djoin x\ufeffbom soft\u00adhyphen lrm\u200emark',
  'word\u2028line\u2029para',
  'non\u00a0breaking\u2003em\u3000ideographic\u202fnarrow\u205fmath space',
  '我爱北京天安门',
  '日本語のテキストです。カタカナ、ひらがな',
  '한국어 텍스트입니다',
  '中文English混合text测试123',
  'compat \uf900\uf901\ufa0e ideographs',
  'CJK ext A \u3400\u4db5 end',
  'I love 🍕 and 🎉!',
  '👍🏽 thumbs, family 👨‍👩‍👧 and flag 🇫🇷',
  'emoji🙂inside🙃words',
  'Cafe\u0301 nai\u0308ve re\u0301sume\u0301 pin\u0303a',
  'Café naïve résumé Ångström Dvořák Łódź Straße Æsir œuvre façade',
  'ΟΔΟΣ Σίσυφος ΑΣ σοφός',
  'Привет, мир! Ёлка',
  'مرحبا بالعالم',
  'שָׁלוֹם עולם',
  'नमस्ते दुनिया',
  'สวัสดีครับ',
  'İstanbul ǅemal Ǉ ǈ',
  'ﬁne ﬂow ligatures',
  'ＡＢＣ１２３ fullwidth！',
  '𝐇𝐞𝐥𝐥𝐨 𝕎𝕠𝕣𝕝𝕕',
  'a'.repeat(100),
  'a'.repeat(101),
  'ab'.repeat(50),
  'ab'.repeat(51),
  `${LONG}${LONG}${LONG}`,
  `${LONG} ${'x'.repeat(150)} end`,
  'é'.repeat(101),
  'e\u0301'.repeat(60),
  '[CLS] hello [SEP] world [MASK] [PAD] [UNK]',
  '[cls] lower [sep] case [Mask]',
  'foo[MASK]bar [CLS][SEP][CLS]',
  '[MASK [SEP [unused0] [unused993] [ CLS ]',
  'The [MASK] sat on the mat.',
  '3.14159 1,000,000 $100 50% #hashtag @user email@example.com',
  'http://example.com/path?q=1&x=2#frag',
  '© ® ™ € £ ¥ § ¶ • … — – ‘quotes’ “double” «guillemets» ¿Qué? ¡Olé!',
  '∑ ∫ √ ≤ ≥ ± × ÷ ∞ ≠ ≈',
  'lone \ud800 high and \udc00 low surrogates',
  'unassigned \u0378 code point',
  'private \ue000 use',
  'Greek question mark\u037e ano teleia\u0387',
  "don't can't won't it's O'Neill rock'n'roll",
  'U.S.A. e.g. i.e. Ph.D.',
  'x'.repeat(18),
  'UPPER lower MiXeD',
];
for (const s of adversarial) addSingle(s);

const adversarialPairs: [string, string][] = [
  ['', 'only the second text'],
  ['[CLS]', '[SEP]'],
  ['我爱北京', '天安门'],
  ['Café naïve', 'cafe naive'],
  ['a'.repeat(101), 'b'],
  ['\u0000\u0001', 'control'],
];
for (const [a, b] of adversarialPairs) addPair(a, b);

// ---------------------------------------------------------------------------------------------
// Reference encodings.

interface SingleCase {
  text: string;
  ids: number[];
}
interface PairCase {
  a: string;
  b: string;
  ids: number[];
  typeIds: number[];
}
/** A truncated encoding of `singles[of]` or `pairs[of]` (the text is not repeated). */
interface TruncatedCase {
  of: number;
  maxLength: number;
  ids: number[];
  typeIds?: number[];
}

function pieces(text: string): number[] {
  return ref.encode(text, { add_special_tokens: false });
}

/** Hugging Face tokenizers' truncate_encodings, longest_first, for a pair. */
function longestFirst(n1: number, n2: number, budget: number): [number, number] {
  if (budget === 0) return [0, 0];
  if (n1 + n2 <= budget) return [n1, n2];
  let short = Math.min(n1, n2);
  let long = Math.max(n1, n2);
  const swapped = n1 > n2;
  long = short > budget ? short : Math.max(short, budget - short);
  if (short + long > budget) {
    short = Math.floor(budget / 2);
    long = short + (budget % 2);
  }
  return swapped ? [long, short] : [short, long];
}

const singleCases: SingleCase[] = [];
const singleTruncated: TruncatedCase[] = [];
singles.forEach((text, i) => {
  const enc = ref._call(text, { return_tensor: false, truncation: false });
  const p = pieces(text);
  const expect = [CLS, ...p, SEP];
  if (JSON.stringify(enc.input_ids) !== JSON.stringify(expect)) throw new Error(`pieces mismatch: ${text}`);
  if (enc.token_type_ids.some((t) => t !== 0)) throw new Error(`non-zero type id: ${text}`);
  singleCases.push({ text, ids: enc.input_ids });
  // Every 10th text that needs it, truncated to 16: the pieces cut to 14 between [CLS] and [SEP].
  if (i % 10 === 0 && p.length > 14)
    singleTruncated.push({ of: i, maxLength: 16, ids: [CLS, ...p.slice(0, 14), SEP] });
});

const pairCases: PairCase[] = [];
const pairTruncated: TruncatedCase[] = [];
pairs.forEach(([a, b], i) => {
  const enc = ref._call(a, { text_pair: b, return_tensor: false, truncation: false });
  const pa = pieces(a);
  const pb = pieces(b);
  const expect = [CLS, ...pa, SEP, ...pb, SEP];
  if (JSON.stringify(enc.input_ids) !== JSON.stringify(expect)) throw new Error(`pair mismatch: ${a} | ${b}`);
  const expectTypes = expect.map((_, k) => (k < pa.length + 2 ? 0 : 1));
  if (JSON.stringify(enc.token_type_ids) !== JSON.stringify(expectTypes))
    throw new Error(`types: ${a} | ${b}`);
  pairCases.push({ a, b, ids: enc.input_ids, typeIds: enc.token_type_ids });
  const truncate = (maxLength: number) => {
    const [na, nb] = longestFirst(pa.length, pb.length, maxLength - 3);
    const ids = [CLS, ...pa.slice(0, na), SEP, ...pb.slice(0, nb), SEP];
    pairTruncated.push({ of: i, maxLength, ids, typeIds: ids.map((_, k) => (k < na + 2 ? 0 : 1)) });
  };
  if (expect.length > 128) truncate(128);
  if (expect.length > 64 && i % 5 === 0) truncate(64);
  if (i % 8 === 0) truncate(32);
  if (i % 8 === 4) truncate(33);
  if (i % 50 === 7) truncate(3);
});

const vocabMd5 = createHash('md5')
  .update(readFileSync(`${dataDir}/vocab/bert-base-uncased-vocab.txt`))
  .digest('hex');
const header = {
  description:
    'BERT uncased tokenizer golden cases. ids include [CLS]/[SEP]; single texts have all-zero type ids. ' +
    'Untruncated ids are the reference output verbatim; cases with maxLength truncate the reference word ' +
    'pieces of each text by Hugging Face tokenizers longest_first rules. Regenerate with ' +
    'node --import tsx scripts/make-tokenizer-golden.ts',
  reference: '@huggingface/transformers 4.3.1 BertTokenizer from bert-base-uncased tokenizer.json',
  vocabMd5,
  singleCount: singleCases.length,
  pairCount: pairCases.length,
  truncatedCount: singleTruncated.length + pairTruncated.length,
};

// One case per line keeps the file diffable.
const lines: string[] = [];
lines.push('{');
for (const [k, v] of Object.entries(header)) lines.push(`${JSON.stringify(k)}: ${JSON.stringify(v)},`);
const list = (name: string, cases: object[], last = false) => {
  lines.push(`${JSON.stringify(name)}: [`);
  lines.push(cases.map((c) => JSON.stringify(c)).join(',\n'));
  lines.push(last ? ']' : '],');
};
list('singles', singleCases);
list('pairs', pairCases);
list('singleTruncated', singleTruncated);
list('pairTruncated', pairTruncated, true);
lines.push('}');
const out = `${lines.join('\n')}\n`;
JSON.parse(out);
writeFileSync(outPath, out);
console.log(
  `${outPath}: ${singleCases.length} single cases, ${pairCases.length} pair cases, ` +
    `${header.truncatedCount} truncated cases, ${(out.length / 1e6).toFixed(2)} MB`,
);
