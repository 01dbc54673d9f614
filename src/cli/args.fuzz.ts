/**
 * Fuzzing the command line: generated argument lists for every command's option table (numbers in every
 * spelling, negatives, NaN, huge and fractional values, unknown flags, stray words, `--name=value`). Parsing
 * must either give values that honour each option's range and choices, or throw a one-line UserError.
 */
import fc from 'fast-check';
import { check, expectUserErrorOrSuccess, fuzzTarget, type SomeFuzzTarget } from '../util/fuzzing.js';
import { type CommandSpec, checkNumber, type NumberRule, num, parse, str } from './args.js';
import * as augment from './augment.js';
import * as baseline from './baseline.js';
import * as bench from './bench.js';
import * as distill from './distill.js';
import * as evaluate from './eval.js';
import * as explainTree from './explain-tree.js';
import * as exporter from './export.js';
import * as finetune from './finetune.js';
import * as fit from './fit.js';
import * as hybrid from './hybrid.js';
import * as info from './info.js';
import * as predict from './predict.js';
import * as pretrain from './pretrain.js';
import * as serve from './serve.js';
import * as teach from './teach.js';

const SPECS: CommandSpec[] = [
  augment,
  baseline,
  bench,
  distill,
  evaluate,
  explainTree,
  exporter,
  finetune,
  fit,
  hybrid,
  info,
  predict,
  pretrain,
  serve,
  teach,
].map((c) => c.spec as CommandSpec);

/** Number-like text: what users type, and what they type by mistake. */
const numberText = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
  fc.double({ noNaN: false }).map(String),
  fc.double({ min: -2, max: 2 }).map((x) => x.toFixed(3)),
  fc.constantFrom(
    '0',
    '-0',
    '1',
    '-1',
    '1e-3',
    '-1e-3',
    '1e400',
    '4294967296',
    '4294967295',
    '0x10',
    '1_000',
    ' 2',
    '2 ',
    '',
    '.5',
    '-.5',
    'NaN',
    'Infinity',
    '-Infinity',
    'inf',
    'two',
    '1,5',
    '+3',
  ),
);

function optionToken(spec: CommandSpec): fc.Arbitrary<readonly string[]> {
  const names = Object.keys(spec.options);
  return fc.oneof(
    fc.constantFrom(...names).chain((name) => {
      const o = spec.options[name];
      if (o.type === 'boolean') return fc.constantFrom([`--${name}`], [`--${name}=1`]);
      const value = o.choices
        ? fc.oneof(fc.constantFrom(...o.choices), fc.string())
        : fc.oneof(numberText, fc.string());
      return fc.oneof(
        value.map((v) => [`--${name}`, v]),
        value.map((v) => [`--${name}=${v}`]),
        fc.constant([`--${name}`]), // value missing
      );
    }),
    fc.string({ maxLength: 8 }).map((s) => [s]), // stray words
    fc.constantFrom(['--'], ['-h'], ['--no-such-flag'], ['-x']),
  );
}

const argvCase = fc.constantFrom(...SPECS).chain((spec) =>
  fc.tuple(
    fc.constant(spec),
    fc.array(optionToken(spec), { maxLength: 6 }).map((a) => a.flat()),
  ),
);

function honours(n: number, r: NumberRule): boolean {
  return (
    Number.isFinite(n) &&
    (!r.int || Number.isInteger(n)) &&
    (r.min === undefined || n >= r.min) &&
    (r.max === undefined || n <= r.max) &&
    (r.above === undefined || n > r.above) &&
    (r.below === undefined || n < r.below)
  );
}

const ruleArb: fc.Arbitrary<NumberRule> = fc.record(
  {
    int: fc.boolean(),
    min: fc.integer({ min: -5, max: 5 }),
    max: fc.integer({ min: -5, max: 10 }),
    above: fc.double({ min: -5, max: 5, noNaN: true }),
    below: fc.double({ min: -5, max: 10, noNaN: true }),
  },
  { requiredKeys: [] },
);

export const ARGS_FUZZ: SomeFuzzTarget[] = [
  fuzzTarget({
    name: 'cli: argument lists for every command',
    arbitrary: argvCase,
    predicate: ([spec, argv]) => {
      const out = expectUserErrorOrSuccess(() => parse(spec, argv));
      if (!out.ok) return;
      const p = out.value;
      const text = (name: string) => str(p, name as never);
      for (const [name, o] of Object.entries(spec.options)) {
        const v = text(name);
        if (v === undefined || p.help) continue;
        if (o.number) {
          const n = num(p, name as never);
          check(honours(n, o.number), () => `--${name} ${v} parsed to ${n}, outside its range`);
        }
        if (o.choices) check(o.choices.includes(v), () => `--${name} ${v} is not one of its choices`);
      }
    },
    weight: 2,
  }),
  fuzzTarget({
    name: 'cli: a number against a range',
    arbitrary: fc.tuple(fc.oneof(numberText, fc.string()), ruleArb),
    predicate: ([raw, rule]) => {
      const out = expectUserErrorOrSuccess(() => checkNumber('x', raw, rule));
      if (out.ok)
        check(
          honours(out.value, rule),
          () => `"${raw}" accepted as ${out.value} against ${JSON.stringify(rule)}`,
        );
    },
  }),
];
