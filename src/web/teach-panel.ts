/// <reference lib="dom" />
/**
 * The page's "teach it" panel (bundled apart as teach.js and fetched on the first click of Teach, so the
 * classification page downloads none of it): the user labels a few sentences and the page teaches them to
 * the model with minnow's training graphs on onnxruntime-web (train/teach.ts, the code `minnow teach`
 * runs): it keeps the model's answers on the anchor texts (the folder's anchors.txt when it has one, and
 * the lines the user classified), stops once the taught sentences are right, and rolls back a diverging
 * run. It shows the loss per step, the taught sentences and the guard set (the anchors) before and after,
 * classifies with the personalised model from then on, and offers it as a zip of a model directory
 * (config.json, model.safetensors, vocab.txt) that `minnow predict --model DIR` loads. The examples never
 * leave the page.
 *
 * Browser-only: no Node built-ins. State for tests and scripts: `window.minnow.teach` (TeachState).
 */
import type { Classification, Classifier, ClassifierOptions } from '../infer/runtime.js';
import { modelClassifier } from '../infer/model-classifier.js';
import { type Model, modelFiles, modelFromFiles } from '../model/model.js';
import type { OrtBackend } from '../runtime/session.js';
import {
  DEFAULT_TEACH,
  parseTeachExamples,
  type TeachConfig,
  type TeachExample,
  type TeachPart,
  type TeachResult,
  teach,
} from '../train/teach.js';
import { zip } from '../util/zip.js';

export interface TeachState {
  status: 'loading' | 'training' | 'done' | 'error';
  error?: string;
  /** Teaching rounds so far (each continues from the last). */
  rounds: number;
  config?: TeachConfig;
  examples?: TeachExample[];
  /** Loss of each step of the last round. */
  losses: number[];
  /** Predictions on the examples' texts before and after the last round (fp32). */
  before?: Classification[];
  after?: Classification[];
  /** The anchor texts the last round kept (classified lines first, then anchors.txt). */
  anchors?: string[];
  /** The guard set (the anchors): labels before and after the last round. */
  guard?: { before: Classification[]; after: Classification[]; changed: number };
  /** What the last round did: its status, message, steps and examples used. */
  result?: TeachResult;
  trainMs?: number;
  /** Bytes of the fp32 weights fetched to train (model.safetensors). */
  weightsBytes?: number;
}

export interface TeachContext {
  ort: ClassifierOptions['ort'];
  /** Reads a file of the model folder (undefined when it is not there). */
  read: (name: string) => Promise<Uint8Array | undefined>;
  /** The model folder's URL, for messages. */
  source: string;
  state: TeachState;
  /** The lines the user classified (kept as anchors). */
  classified: () => string[];
  /** Called with the personalised model's classifier after every round (the page classifies again). */
  onModel: (clf: Classifier) => Promise<void>;
}

/** Guard rows shown in the before/after table (the count covers all of them). */
const GUARD_ROWS = 12;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** The model being taught: loaded once from the folder's fp32 weights, then trained in place. */
let model: Model | undefined;

async function loadModel(ctx: TeachContext): Promise<Model> {
  if (model) return model;
  const text = async (name: string) => {
    const b = await ctx.read(name);
    if (!b) throw new Error(`${ctx.source}${name}: not found (export the model again with this minnow)`);
    return b;
  };
  const weights = await text('model.safetensors');
  ctx.state.weightsBytes = weights.byteLength;
  const dec = new TextDecoder();
  const files = {
    'config.json': dec.decode(await text('config.json')),
    'model.safetensors': weights,
    'vocab.txt': dec.decode(await text('vocab.txt')),
  };
  const config = JSON.parse(files['config.json']) as {
    num_labels?: number;
    id2label?: object;
    knowledge?: object;
  };
  const numLabels = config.num_labels ?? Object.keys(config.id2label ?? {}).length;
  // A K-BERT model's graph (an export always carries it).
  const graph = config.knowledge ? { 'knowledge.kg': dec.decode(await text('knowledge.kg')) } : {};
  model = modelFromFiles({ ...files, ...graph }, ctx.source, { numLabels });
  return model;
}

/** The anchors the model folder ships (anchors.txt, one text per line; none when it has no such file). */
async function loadAnchors(ctx: TeachContext): Promise<string[]> {
  const b = await ctx.read('anchors.txt');
  if (!b) return [];
  return new TextDecoder()
    .decode(b)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

/** The examples typed as `label | sentence`, one per line (train/teach.ts reads them, as `minnow teach` does). */
export function parseExamples(text: string, m: Model): TeachExample[] {
  return parseTeachExamples(text, m.config);
}

function renderLosses(losses: number[]): void {
  $<HTMLTableElement>('losses').tBodies[0].replaceChildren(
    ...losses.map((l, k) => {
      const tr = document.createElement('tr');
      tr.innerHTML = `<td class="num">${k + 1}</td><td class="num">${l.toFixed(4)}</td>`;
      return tr;
    }),
  );
  // A sparkline of the loss: y from the round's min to max.
  const svg = $('loss-plot');
  if (losses.length < 2) return svg.replaceChildren();
  const lo = Math.min(...losses);
  const span = Math.max(...losses) - lo || 1;
  const pts = losses.map((l, k) => `${(k / (losses.length - 1)) * 300},${58 - ((l - lo) / span) * 56}`);
  svg.innerHTML = `<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="${pts.join(' ')}" />`;
}

function renderBeforeAfter(s: TeachState, names: string[]): void {
  const show = (c: Classification) => `${c.label} ${c.score.toFixed(3)}`;
  const row = (kind: 'taught' | 'guard', cells: string[], after: Classification, changed: boolean) => {
    const tr = document.createElement('tr');
    tr.dataset.kind = kind;
    if (changed) tr.className = kind === 'guard' ? 'changed' : 'flipped';
    for (const c of cells) {
      const td = document.createElement('td');
      td.textContent = c;
      tr.append(td);
    }
    tr.dataset.after = JSON.stringify(after.scores);
    return tr;
  };
  const examples = s.examples ?? [];
  const taught = examples.map((e, i) =>
    row(
      'taught',
      [e.text, names[e.label] ?? String(e.label), show(s.before![i]), show(s.after![i])],
      s.after![i],
      s.before![i].label !== s.after![i].label,
    ),
  );
  const anchors = s.anchors ?? [];
  const g = s.guard;
  const guard: HTMLTableRowElement[] = [];
  if (g && anchors.length) {
    const head = document.createElement('tr');
    head.className = 'section';
    const td = document.createElement('td');
    td.colSpan = 4;
    td.textContent =
      `Guard set: ${g.changed} of ${anchors.length} anchor texts changed label` +
      (anchors.length > GUARD_ROWS ? ` (the first ${GUARD_ROWS} shown)` : '');
    head.append(td);
    guard.push(head);
    for (const [i, text] of anchors.slice(0, GUARD_ROWS).entries())
      guard.push(
        row(
          'guard',
          [text, 'keep', show(g.before[i]), show(g.after[i])],
          g.after[i],
          g.before[i].label !== g.after[i].label,
        ),
      );
  }
  $<HTMLTableElement>('before-after').tBodies[0].replaceChildren(...taught, ...guard);
}

/** One round of teaching with the panel's settings (the Teach button). */
export async function teachRound(ctx: TeachContext): Promise<void> {
  const s = ctx.state;
  s.status = 'loading';
  s.error = undefined;
  const status = $<HTMLSpanElement>('teach-status');
  const say = (text: string, error = false) => {
    status.textContent = text;
    status.classList.toggle('error', error);
  };
  try {
    say('Loading the model weights…');
    const m = await loadModel(ctx);
    const examples = parseExamples($<HTMLTextAreaElement>('examples').value, m);
    const steps = Number($<HTMLInputElement>('steps').value);
    const lr = Number($<HTMLInputElement>('lr').value);
    if (!Number.isInteger(steps) || steps < 1 || steps > 1000)
      throw new Error('steps: a whole number 1..1000');
    if (!(lr > 0 && lr <= 0.1)) throw new Error('learning rate: a number in (0, 0.1]');
    const asked = $<HTMLSelectElement>('part').value;
    const part: TeachPart = asked === 'head' || asked === 'top' ? asked : 'model';
    const config: TeachConfig = { ...DEFAULT_TEACH, steps, lr, part };
    const anchors = [...new Set([...ctx.classified(), ...(await loadAnchors(ctx))])];
    const texts = examples.map((e) => e.text);
    const classify = async () => {
      const clf = await modelClassifier(m, { ort: ctx.ort, threads: 1 }, `${ctx.source}model.safetensors`);
      const out = await clf.classify([...texts, ...anchors]);
      return { clf, taught: out.slice(0, texts.length), guard: out.slice(texts.length) };
    };
    const first = await classify();
    await first.clf.release();
    s.status = 'training';
    s.losses = [];
    renderLosses([]);
    const t0 = performance.now();
    const result = await teach(m, examples, config, {
      backend: ctx.ort as unknown as OrtBackend,
      threads: 1,
      anchors,
      onStep: (k, loss) => {
        s.losses.push(loss);
        renderLosses(s.losses);
        say(`step ${k + 1} of at most ${steps}: loss ${loss.toFixed(4)}`);
      },
    });
    s.trainMs = performance.now() - t0;
    s.result = result;
    if (result.status === 'diverged') {
      s.status = 'error';
      s.error = result.message;
      say(`Could not teach: ${result.message}.`, true);
      return;
    }
    const next = await classify();
    const changed = first.guard.filter((c, i) => c.label !== next.guard[i].label).length;
    Object.assign(s, {
      config,
      examples,
      before: first.taught,
      after: next.taught,
      anchors,
      guard: { before: first.guard, after: next.guard, changed },
      rounds: s.rounds + 1,
    });
    renderBeforeAfter(s, Object.values(m.config.id2label ?? {}));
    await ctx.onModel(next.clf);
    const n = examples.length;
    const perStep = Math.min(config.batchSize, n);
    const what = part === 'head' ? 'head only' : part === 'top' ? 'head and last layer' : 'whole model';
    say(
      `${result.message} (${what}, ${(s.trainMs / 1000).toFixed(2)} s): trained on ${result.taughtSeen} of ` +
        `${n} taught example${n === 1 ? '' : 's'} (${perStep} a step) and ${result.anchorsSeen} of ${anchors.length} ` +
        (anchors.length
          ? `anchor texts; guard set: ${changed} of ${anchors.length} labels changed.`
          : 'anchor texts: nothing held its other answers but the pull toward its weights (classify a few lines first, or export the model with an anchors.txt).') +
        ' Classify now uses the personalised model (fp32).',
    );
    $<HTMLButtonElement>('download').disabled = false;
    s.status = 'done';
  } catch (e) {
    s.status = 'error';
    s.error = (e as Error).message;
    say(`Could not teach: ${s.error}`, true);
  }
}

/** The personalised model as a zip of a model directory (the Download button). */
export function personalisedZip(folder = 'minnow-personalised'): Uint8Array {
  if (!model) throw new Error('nothing taught yet');
  const files = modelFiles(model);
  return zip(Object.fromEntries(Object.entries(files).map(([name, data]) => [`${folder}/${name}`, data])));
}

export function download(): void {
  const blob = new Blob([personalisedZip() as BlobPart], { type: 'application/zip' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = 'minnow-personalised.zip';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}
