/** `minnow finetune`: train a classification or regression head (and the encoder) on a task. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PRESETS } from '../model/config.js';
import { createModel, saveModel } from '../model/io.js';
import { DEFAULT_FINETUNE, FINETUNE_SETTINGS, type FinetuneConfig, finetune } from '../train/finetune.js';
import { parseGrid, recipeName, searchFinetune } from '../train/recipe-search.js';
import { BERT_VOCAB } from '../util/assets.js';
import { checkOutDir, checkOutIsNotInput, removeIfOnly } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { command, configOf, flag, type Parsed, required, settingOptions, str } from './args.js';
import {
  DATA_OPTIONS,
  devOptions,
  dataSource,
  EMBEDDING_OPTIONS,
  KNOWLEDGE_OPTIONS,
  knowledgeSettings,
  presetWithEmbedding,
} from './options.js';

const D = DEFAULT_FINETUNE;

export const spec = command({
  name: 'finetune',
  summary: 'fine-tune a model on a GLUE task or your own labelled data',
  usage:
    'minnow finetune (--model DIR | --preset NAME) --task T --data PATH --out DIR [--epochs N] [--lr X] ...',
  options: {
    model: { type: 'string', value: 'DIR', help: 'pre-trained model directory (e.g. models/uno-eelbert)' },
    preset: {
      type: 'string',
      value: 'NAME',
      help: `or start from a randomly initialised preset (no pre-training): ${Object.keys(PRESETS).join(', ')}`,
    },
    ...EMBEDDING_OPTIONS,
    ...DATA_OPTIONS,
    dev: devOptions(D, 'for evaluation', 'no dev metrics').dev,
    out: { type: 'string', value: 'DIR', help: 'output model directory' },
    ...settingOptions(FINETUNE_SETTINGS, D),
    search: {
      type: 'string',
      value: 'GRID',
      help: 'recipe search: e.g. "lr=1e-4,3e-4,1e-3 batch=16,32 epochs=3,5" (keys lr, batch, epochs, warmup, dropout, weight-decay): one run per combination in OUT/search/, the best dev score copied to OUT, all in OUT/search.json',
    },
    ...KNOWLEDGE_OPTIONS,
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
});

export async function run(p: Parsed<typeof spec.options>): Promise<void> {
  let model = str(p, 'model');
  const presetName = str(p, 'preset');
  if (!model === !presetName)
    throw new UserError('finetune: give exactly one of --model DIR or --preset NAME');
  const out = required(p, 'out');
  const src = dataSource(p);
  const devPath = str(p, 'dev');
  const config: FinetuneConfig = {
    out,
    // epochs, lr and max length absent: chosen by the model and the data (train/finetune-recipe.ts).
    ...(configOf(p, FINETUNE_SETTINGS, D) as Omit<FinetuneConfig, 'out'>),
    knowledge: knowledgeSettings(p),
  };
  const searchSpec = str(p, 'search');
  const grid = searchSpec === undefined ? undefined : parseGrid(searchSpec); // checked before any work
  // An unknown preset or bad --hash / --lowrank-dim settings fail here, before any work.
  const fresh = presetWithEmbedding(p, presetName);
  const newOut = !existsSync(out);
  checkOutDir(out); // before reading any data
  checkOutIsNotInput(out, model === undefined ? {} : { '--model': model });
  if (presetName) {
    // A randomly initialised model directory, so that "no pre-training" runs the same code path.
    model = join(out, 'init');
    saveModel(model, createModel(fresh!, BERT_VOCAB, new Rng(config.seed)));
  }
  const devSrc = devPath ? { ...src, data: devPath } : undefined;
  // Refused input (bad rows, a wrong column) leaves no new --out behind with only the preset's init/ in it.
  const unlessRefused = async <T>(work: Promise<T>): Promise<T> =>
    work.catch((e: unknown) => {
      if (newOut) removeIfOnly(out, ['init']);
      throw e;
    });
  if (grid) {
    const s = await unlessRefused(searchFinetune(model!, src, devSrc, config, grid));
    if (flag(p, 'json')) process.stdout.write(`${JSON.stringify(s)}\n`);
    else {
      const rows = s.runs.map(
        (r) =>
          `${r === s.best ? '*' : ' '} ${recipeName(r.recipe).padEnd(32)} ${r.score.toFixed(2)}${r.reused ? '  (earlier run)' : ''}`,
      );
      process.stdout.write(
        `${rows.join('\n')}\nbest: ${recipeName(s.best.recipe)}, dev score ${s.best.score.toFixed(2)}; model written to ${out} (picked on the dev set it is scored on, so this score is optimistic)\n`,
      );
    }
    return;
  }
  const res = await unlessRefused(finetune(model!, src, devSrc, config));
  if (flag(p, 'json')) process.stdout.write(`${JSON.stringify(res)}\n`);
  else if (res.devSource === 'none')
    process.stdout.write(
      `${res.task}: no dev data, no metrics (${res.epochsRun} epochs, lr ${res.recipe.lr}, max length ${res.recipe.maxLength}); model written to ${out}\n`,
    );
  else {
    const m = Object.entries(res.metrics).map(([k, v]) => `${k} ${(100 * (v ?? Number.NaN)).toFixed(2)}`);
    const which = res.devSource === 'held-out' ? 'held-out dev' : 'dev';
    const { lr, maxLength } = res.recipe;
    process.stdout.write(
      `${res.task} ${which} (${res.devExamples} examples): ${m.join(', ')}, best of ${res.epochsRun} epochs (epoch ${res.bestEpoch}; lr ${lr}, max length ${maxLength}); model written to ${out}\n`,
    );
  }
}
