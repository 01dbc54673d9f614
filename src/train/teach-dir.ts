/**
 * `minnow teach` on disk: a model directory (or an exported folder, which carries model.safetensors),
 * a file of taught examples and the anchor texts (the folder's anchors.txt unless others are given) in;
 * the taught model directory out, with the predictions before and after on the taught examples and on the
 * anchors (the guard set). The teaching itself is teach.ts, the code the page runs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { textLines } from '../data/tabular.js';
import { type Classification, type OrtModule } from '../infer/runtime.js';
import { nodeOrt } from '../infer/load.js';
import { modelClassifier } from '../infer/model-classifier.js';
import { loadModel, readConfig, saveModel } from '../model/io.js';
import type { Model } from '../model/model.js';
import type { OrtBackend } from '../runtime/session.js';
import { checkOutDir, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { readTextInput } from '../util/text-input.js';
import { parseTeachExamples, type TeachConfig, type TeachExample, type TeachResult, teach } from './teach.js';

/** The anchor texts a model folder ships: one per line. */
export const ANCHORS_FILE = 'anchors.txt';

export interface TeachDirOptions {
  model: string;
  examples: string;
  /** A file of anchor texts; undefined: the model folder's anchors.txt when there is one; null: none. */
  anchors?: string | null;
  out: string;
  config: TeachConfig;
  threads: number;
  /** onnxruntime to run on (default onnxruntime-node; infer/load.ts webOrt gives the page's numbers). */
  ort?: OrtModule;
  onStep?: (step: number, loss: number) => void;
}

export interface TeachReport {
  result: TeachResult;
  examples: (TeachExample & { before: Classification; after: Classification })[];
  /** The guard set: anchor texts whose label changed, of how many, from which file. */
  anchors: { file?: string; count: number; changed: { text: string; before: string; after: string }[] };
  labels: string[];
}

/** A file of lines, bounded in size and line length (util/text-input.ts). */
function readText(file: string, flag: string): string {
  return readTextInput(file, `${flag} ${file}`);
}

async function classify(
  m: Model,
  texts: readonly string[],
  threads: number,
  ort: OrtModule,
): Promise<Classification[]> {
  if (texts.length === 0) return [];
  const clf = await modelClassifier(m, { ort, threads });
  try {
    return await clf.classify(texts);
  } finally {
    await clf.release();
  }
}

/**
 * Teach the model in `o.model` the examples of `o.examples` and write it to `o.out` (with the anchors it
 * kept, so that teaching it again keeps the same answers). A diverging run writes nothing: the UserError
 * says why.
 */
export async function teachDir(o: TeachDirOptions): Promise<TeachReport> {
  const text = readText(o.examples, '--examples');
  if (!existsSync(join(o.model, 'config.json')))
    throw new UserError(
      `--model ${o.model}: no config.json (a fine-tuned model directory or an exported folder)`,
    );
  const numLabels = readConfig(o.model).num_labels;
  if (!numLabels) throw new UserError(`--model ${o.model}: no task head (num_labels); fine-tune it first`);
  const m = loadModel(o.model, { numLabels });
  const examples = parseTeachExamples(text, m.config, o.examples);
  const own = join(o.model, ANCHORS_FILE);
  const anchorFile = o.anchors === null ? undefined : (o.anchors ?? (existsSync(own) ? own : undefined));
  const anchors = anchorFile ? textLines(readText(anchorFile, '--anchors')) : [];
  const texts = examples.map((e) => e.text);
  const ort = o.ort ?? nodeOrt;
  // The taught texts and the anchors in one classifier (a text's scores do not depend on its batch).
  const classifyAll = async () => {
    const all = await classify(m, [...texts, ...anchors], o.threads, ort);
    return [all.slice(0, texts.length), all.slice(texts.length)];
  };
  const [before, guardBefore] = await classifyAll();
  const result = await teach(m, examples, o.config, {
    threads: o.threads,
    anchors,
    onStep: o.onStep,
    backend: ort as unknown as OrtBackend,
  });
  if (result.status === 'diverged') throw new UserError(`${result.message}; nothing written`);
  const [after, guardAfter] = await classifyAll();
  checkOutDir(o.out);
  saveModel(o.out, m, { mlmHead: false });
  if (anchors.length) writeFileAtomic(join(o.out, ANCHORS_FILE), `${anchors.join('\n')}\n`);
  const label = (c: Classification) => String(c.label);
  return {
    result,
    examples: examples.map((e, i) => ({ ...e, before: before[i], after: after[i] })),
    anchors: {
      file: anchorFile,
      count: anchors.length,
      changed: anchors
        .map((t, i) => ({ text: t, before: label(guardBefore[i]), after: label(guardAfter[i]) }))
        .filter((x) => x.before !== x.after),
    },
    labels: Object.values(m.config.id2label ?? {}),
  };
}
