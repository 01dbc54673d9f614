/**
 * Each training setting declared once: every field of a recipe's defaults has exactly one flag (or is named
 * here as set some other way), every option made from a setting shows the DEFAULT_* value as its default,
 * the command line with no flags gives the defaults back, flags reach their fields, and a refused --resume
 * names each setting by its flag.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_GENERAL_DISTILL, GENERAL_DISTILL_SETTINGS } from '../distill/general.js';
import { DEFAULT_TASK_DISTILL, TASK_DISTILL_SETTINGS } from '../distill/task-distill.js';
import { DEFAULT_FINETUNE, FINETUNE_SETTING_NAMES, FINETUNE_SETTINGS } from '../train/finetune.js';
import { LOOP_SETTING_NAMES } from '../train/loop.js';
import { DEFAULT_PRETRAIN, PRETRAIN_SETTING_NAMES, PRETRAIN_SETTINGS } from '../train/pretrain.js';
import { getPath, leafPaths, type SettingTable } from '../util/settings.js';
import { type CommandSpec, configOf, type OptionSpec, parse } from './args.js';
import { spec as distillSpec } from './distill.js';
import { spec as finetuneSpec } from './finetune.js';
import { spec as pretrainSpec } from './pretrain.js';

interface Recipe {
  name: string;
  spec: CommandSpec;
  table: SettingTable;
  defaults: object;
  /** Fields with no default value: the recipe chooses them (or leaves them alone) when no flag is given. */
  optional?: string[];
  /** Fields of the defaults no flag sets, and what sets them. */
  elsewhere: Record<string, string>;
}

const MASKING_FIXED = {
  'masking.maskFraction': "BERT's 80% [MASK]",
  'masking.randomFraction': "BERT's 10% random",
};

const RECIPES: Recipe[] = [
  {
    name: 'finetune',
    spec: finetuneSpec,
    table: FINETUNE_SETTINGS,
    defaults: DEFAULT_FINETUNE,
    optional: ['epochs', 'lr', 'maxLength', 'dropout'],
    elsewhere: {},
  },
  {
    name: 'pretrain',
    spec: pretrainSpec,
    table: PRETRAIN_SETTINGS,
    defaults: DEFAULT_PRETRAIN,
    elsewhere: MASKING_FIXED,
  },
  {
    name: 'distill, task',
    spec: distillSpec,
    table: TASK_DISTILL_SETTINGS,
    defaults: DEFAULT_TASK_DISTILL,
    elsewhere: {
      method: '--method',
      'config.predictionWeight': '--config',
      'config.intermediate': '--method, --config',
      'config.averageHeads': '--method, --config',
      'config.projection': '--config',
      'config.projectionSharing': '--config',
    },
  },
  {
    name: 'distill, corpus',
    spec: distillSpec,
    table: GENERAL_DISTILL_SETTINGS,
    defaults: DEFAULT_GENERAL_DISTILL,
    elsewhere: { method: '--method', ...MASKING_FIXED },
  },
];

describe('settings, each declared once', () => {
  for (const r of RECIPES)
    test(`${r.name}: every field of the defaults has exactly one flag; every flag a field`, () => {
      const fields = Object.keys(r.table);
      for (const leaf of leafPaths(r.defaults)) {
        if (r.elsewhere[leaf]) {
          assert.ok(!fields.includes(leaf), `${leaf} is set by ${r.elsewhere[leaf]}, not a flag`);
          continue;
        }
        assert.equal(fields.filter((f) => f === leaf).length, 1, `${r.name}: ${leaf} has no flag`);
      }
      for (const f of fields)
        assert.ok(
          getPath(r.defaults, f) !== undefined || r.optional?.includes(f),
          `${r.name}: --${r.table[f].flag} sets ${f}, which the defaults do not have`,
        );
      const flags = Object.values(r.table).map((s) => s.flag);
      assert.equal(new Set(flags).size, flags.length, `${r.name}: a flag twice`);
      for (const s of Object.values(r.table)) assert.ok(r.spec.options[s.flag], `--${s.flag} in the spec`);
    });

  for (const r of RECIPES.slice(0, 2))
    test(`${r.name}: each option's default is the DEFAULT_* value, and no flags give the defaults back`, () => {
      const made = Object.values(r.spec.options).filter((o: OptionSpec) => o.field !== undefined);
      assert.equal(made.length, Object.keys(r.table).length);
      for (const o of made) {
        const d = getPath(r.defaults, o.field!);
        if (o.default !== undefined) assert.equal(o.default, String(d), `--${o.field}`);
        else assert.ok(o.type === 'boolean' ? d === false : o.defaultText || d === undefined, o.field);
      }
      assert.deepEqual(configOf(parse(r.spec, []), r.table, r.defaults), r.defaults);
    });

  test("distill: no option has a default (each mode applies its own), no flags give each mode's defaults", () => {
    for (const o of Object.values(distillSpec.options) as OptionSpec[]) assert.equal(o.default, undefined);
    const p = parse(distillSpec, []);
    for (const r of RECIPES.slice(2)) assert.deepEqual(configOf(p, r.table, r.defaults), r.defaults);
  });

  test('flags reach their fields: --decay cosine, --lr; --mask-prob and --whole-word inside masking', () => {
    const f = configOf(
      parse(finetuneSpec, ['--decay', 'cosine', '--lr', '3e-4', '--dropout', '0']),
      FINETUNE_SETTINGS,
      DEFAULT_FINETUNE,
    );
    assert.deepEqual(f, { ...DEFAULT_FINETUNE, decay: 'cosine', lr: 3e-4, dropout: 0 });
    const p = configOf(
      parse(pretrainSpec, ['--mask-prob', '0.2', '--whole-word', '--rtd-weight', '10']),
      PRETRAIN_SETTINGS,
      DEFAULT_PRETRAIN,
    );
    assert.deepEqual(p.masking, { ...DEFAULT_PRETRAIN.masking, probability: 0.2, wholeWord: true });
    assert.equal(p.electra?.rtdWeight, 10);
    assert.equal(DEFAULT_PRETRAIN.masking.probability, 0.15); // the defaults stay as they were
    const t = configOf(
      parse(distillSpec, ['--decay', 'constant', '--temperature', '3']),
      TASK_DISTILL_SETTINGS,
      DEFAULT_TASK_DISTILL,
    );
    assert.equal(t.decay, 'constant');
    assert.equal(t.config.temperature, 3);
    assert.equal(DEFAULT_TASK_DISTILL.config.temperature, 2);
  });

  test('a refused --resume names every setting of finetune and pretrain by its flag', () => {
    const names = [
      [FINETUNE_SETTINGS, { ...LOOP_SETTING_NAMES, ...FINETUNE_SETTING_NAMES }],
      [PRETRAIN_SETTINGS, { ...LOOP_SETTING_NAMES, ...PRETRAIN_SETTING_NAMES }],
    ] as const;
    for (const [table, byPath] of names)
      for (const [field, s] of Object.entries(table as SettingTable))
        assert.ok(
          (byPath as Record<string, string>)[s.recipe ?? field]?.includes(`--${s.flag}`),
          `${field}: --${s.flag}`,
        );
    assert.equal(LOOP_SETTING_NAMES['schedule.decay'], '--decay');
    assert.equal(LOOP_SETTING_NAMES['schedule.warmupSteps'], 'warmup updates (--warmup)');
  });
});
