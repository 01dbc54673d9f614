/**
 * Copy pre-trained models into models/ for the repository: config.json + model.safetensors only (the
 * vocabulary is the shipped assets/bert-base-uncased-vocab.txt, named in config.json; no MLM head).
 * config.json keeps (or, for runs made before models recorded it, gains from the run's
 * pretrain_config.json and pretrain_result.json) the `minnow_pretraining` record that `minnow info` shows.
 *
 *   npx tsx scripts/ship-models.ts runs/eelbert2/eelbert-tiny-pretrained:models/eelbert-tiny ...
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadModel, modelBytes, saveModel } from '../src/model/io.js';

interface RunConfig {
  corpus: string;
  tokens: number;
  batchSize: number;
  seqLen: number;
  lr: number;
}
interface RunResult {
  updates: number;
  evals: { valid_mlm_loss?: number; valid_mlm_accuracy?: number }[];
}

for (const arg of process.argv.slice(2)) {
  const [from, to] = arg.split(':');
  const m = loadModel(from);
  const cfgPath = join(from, 'pretrain_config.json');
  const resPath = join(from, 'pretrain_result.json');
  if (!m.config.minnow_pretraining && existsSync(cfgPath) && existsSync(resPath)) {
    const c = JSON.parse(readFileSync(cfgPath, 'utf8')) as RunConfig;
    const r = JSON.parse(readFileSync(resPath, 'utf8')) as RunResult;
    const last = r.evals[r.evals.length - 1];
    m.config.minnow_pretraining = [
      {
        corpus: basename(c.corpus),
        tokens: c.tokens,
        updates: r.updates,
        batch_size: c.batchSize,
        seq_len: c.seqLen,
        lr: c.lr,
        ...(last ? { valid_mlm_loss: last.valid_mlm_loss, valid_mlm_accuracy: last.valid_mlm_accuracy } : {}),
        date: statSync(resPath).mtime.toISOString(),
      },
    ];
  }
  saveModel(to, m, { shippedVocab: 'bert-base-uncased', mlmHead: false });
  const b = modelBytes(to);
  process.stdout.write(
    `${from} -> ${to}: ${(b.total / 1e6).toFixed(3)} MB (model.safetensors ${(b.weights / 1e6).toFixed(3)} MB)\n`,
  );
}
