/**
 * The runtime's Classifier for a model in memory: the graph a deployment runs (fp32; compact for hash
 * models), exported in memory. `minnow predict` on a model directory and the page's personalised model use
 * it. Browser-safe.
 */
import { hasDerivedWeight } from '../model/embeddings/registry.js';
import type { Model } from '../model/model.js';
import { UserError } from '../util/errors.js';
import { classifierOnnx } from './export-graph.js';
import { Classifier, type ClassifierOptions, type ExportedConfig } from './runtime.js';

export async function modelClassifier(
  m: Model,
  o: Omit<ClassifierOptions, 'quantized'>,
  source = 'model.safetensors',
): Promise<Classifier> {
  const numLabels = m.config.num_labels;
  if (!numLabels) throw new UserError(`${source}: no task head (num_labels); fine-tune the model first`);
  const compact = (o.variant ?? (hasDerivedWeight(m.config) ? 'compact' : 'portable')) === 'compact';
  const bytes = classifierOnnx(m, numLabels, { compact, quantize: 'none', scheme: 'dynamic' });
  const config: ExportedConfig = { ...m.config };
  return Classifier.create(
    config,
    m.tokenizer.vocabulary,
    bytes,
    { ...o, variant: compact ? 'compact' : 'portable', knowledge: m.knowledge },
    source,
  );
}
