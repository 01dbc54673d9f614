/**
 * Copy pre-trained models into models/ for the repository: config.json + model.safetensors only (the
 * vocabulary is the shipped assets/bert-base-uncased-vocab.txt, named in config.json; no MLM head).
 *
 *   npx tsx scripts/ship-models.ts runs/eelbert/eelbert-tiny-pretrained:models/eelbert-tiny ...
 */
import { loadModel, modelBytes, saveModel } from '../src/model/io.js';

for (const arg of process.argv.slice(2)) {
  const [from, to] = arg.split(':');
  const m = loadModel(from);
  saveModel(to, m, { shippedVocab: 'bert-base-uncased', mlmHead: false });
  const b = modelBytes(to);
  process.stdout.write(
    `${from} -> ${to}: ${(b.total / 1e6).toFixed(3)} MB (model.safetensors ${(b.weights / 1e6).toFixed(3)} MB)\n`,
  );
}
