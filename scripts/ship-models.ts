/**
 * Copy pre-trained models into models/ for the repository: config.json + model.safetensors only (the
 * vocabulary is the shipped assets/bert-base-uncased-vocab.txt, named in config.json; no MLM head).
 * config.json keeps (or, for runs made before models recorded it, gains from the run's
 * pretrain_config.json and pretrain_result.json) the `minnow_pretraining` record that `minnow info` shows.
 *
 *   npx tsx scripts/ship-models.ts runs/eelbert2/eelbert-tiny-pretrained:models/eelbert-tiny ...
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, modelBytes, saveModel } from '../src/model/io.js';
import { type PretrainConfig, pretrainingRecord } from '../src/train/pretrain.js';

for (const arg of process.argv.slice(2)) {
  const [from, to] = arg.split(':');
  const m = loadModel(from);
  const cfgPath = join(from, 'pretrain_config.json');
  const resPath = join(from, 'pretrain_result.json');
  if (!m.config.minnow_pretraining && existsSync(cfgPath) && existsSync(resPath)) {
    const r = JSON.parse(readFileSync(resPath, 'utf8')) as {
      updates: number;
      evals: Record<string, number>[];
    };
    const c = JSON.parse(readFileSync(cfgPath, 'utf8')) as PretrainConfig;
    m.config.minnow_pretraining = [pretrainingRecord(c, r.updates, r.evals, statSync(resPath).mtime)];
  }
  saveModel(to, m, { shippedVocab: 'bert-base-uncased', mlmHead: false });
  const b = modelBytes(to);
  process.stdout.write(
    `${from} -> ${to}: ${(b.total / 1e6).toFixed(3)} MB (model.safetensors ${(b.weights / 1e6).toFixed(3)} MB)\n`,
  );
}
