/// <reference lib="dom" />
/**
 * The script of the classification page (src/web/index.html; built by src/web/build.ts): loads an exported
 * model folder served next to the page (./model/, or ?model=URL) with minnow's runtime on onnxruntime-web's
 * WebAssembly backend (its .wasm served from the page's folder), classifies the textarea's lines and shows
 * each line's label and scores, the load time (config, ONNX file and vocabulary fetched, onnxruntime-web's
 * .wasm fetched and compiled, session created) and the bytes each file took.
 *
 * Browser-only: no Node built-ins. Query options: model=URL (folder, relative to the page),
 * variant=compact|portable (default: compact where the export has it), quantized=0 (fp32; default int8
 * where the export has it).
 *
 * The "teach it" panel lives in teach-panel.ts, bundled apart (teach.js) and imported on the first click
 * of Teach, so classifying downloads none of the training code.
 *
 * For tests and scripts the page keeps its state in `window.minnow` (see PageState).
 */
import * as ortWeb from 'onnxruntime-web/wasm';
import {
  type Classification,
  Classifier,
  type ExportedConfig,
  type ExportVariant,
  type OrtModule,
} from '../infer/runtime.js';
import { isBlank } from '../util/blank.js';
import type { TeachState } from './teach-panel.js';

/** Which part of the page a downloaded file belongs to. */
export type DownloadPart =
  | 'model'
  | 'vocab'
  | 'config'
  | 'knowledge'
  | 'page JS'
  | 'onnxruntime-web JS'
  | 'onnxruntime-web wasm'
  | 'teach JS'
  | 'trainable weights'
  | 'anchors'
  | 'page HTML'
  | 'other';

export interface Download {
  /** Path relative to the page's folder (or the full URL of a file elsewhere). */
  path: string;
  part: DownloadPart;
  /** Body bytes as transferred (the Performance API's encodedBodySize; the file size when not compressed). */
  bytes: number;
}

export interface PageResult extends Classification {
  text: string;
}

export interface PageState {
  status: 'loading' | 'ready' | 'classifying' | 'done' | 'error';
  error?: string;
  model?: {
    url: string;
    file: string;
    variant: 'compact' | 'portable';
    quantized: boolean;
    labels: string[];
  };
  /** Milliseconds from navigation start until the model was ready. */
  readyMs?: number;
  /** Milliseconds spent in loading the model (config, ONNX file, vocabulary, onnxruntime session). */
  loadMs?: number;
  downloads?: Download[];
  results?: PageResult[];
  classifyMs?: number;
  /** The "teach it" panel, once used. */
  teach?: TeachState;
}

const state: PageState = { status: 'loading' };
(window as unknown as { minnow: PageState }).minnow = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const statusEl = $<HTMLParagraphElement>('status');
const form = $<HTMLFormElement>('form');
const textsEl = $<HTMLTextAreaElement>('texts');
const button = $<HTMLButtonElement>('classify');
const timingEl = $<HTMLSpanElement>('timing');
const resultsBody = $<HTMLTableElement>('results').tBodies[0];
const downloadsBody = $<HTMLTableElement>('downloads').tBodies[0];

const ort = ortWeb as unknown as OrtModule;
// One thread: more need cross-origin isolation (SharedArrayBuffer), and a model this small gains little.
ortWeb.env.wasm.numThreads = 1;
// The .wasm next to this script (build.ts copies it there); never a CDN.
ortWeb.env.wasm.wasmPaths = { wasm: new URL('ort-wasm-simd-threaded.wasm', import.meta.url).href };

const params = new URLSearchParams(location.search);
const pageDir = new URL('./', location.href).href;
const modelUrl = new URL(params.get('model') ?? './model/', location.href).href.replace(/\/?$/, '/');

function setStatus(text: string, error = false): void {
  statusEl.textContent = text;
  statusEl.classList.toggle('error', error);
}

const fmtBytes = (b: number) =>
  b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(1)} kB` : `${b} B`;
const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

/** A file of the model folder: fetched once (config.json is read before the runtime reads it again). */
const fetched = new Map<string, Promise<Uint8Array | undefined>>();
function readModelFile(name: string): Promise<Uint8Array | undefined> {
  let p = fetched.get(name);
  if (!p) {
    const url = new URL(name, modelUrl).href;
    p = fetch(url).then(async (res) => {
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    });
    fetched.set(name, p);
  }
  return p;
}

function partOf(url: string): DownloadPart {
  const path = url.split(/[?#]/)[0];
  if (path.startsWith(modelUrl)) {
    const name = path.slice(modelUrl.length);
    if (name.endsWith('.onnx')) return 'model';
    if (name === 'vocab.txt' || name === 'tokenizer.json') return 'vocab';
    if (name === 'config.json') return 'config';
    if (name === 'model.safetensors') return 'trainable weights';
    if (name === 'anchors.txt') return 'anchors';
    if (name === 'knowledge.kg') return 'knowledge';
    return 'other';
  }
  if (path.endsWith('/page.js')) return 'page JS';
  if (path.endsWith('/teach.js')) return 'teach JS';
  if (/\/ort[^/]*\.m?js$/.test(path)) return 'onnxruntime-web JS';
  if (path.endsWith('.wasm')) return 'onnxruntime-web wasm';
  return 'other';
}

/** Every file the page has downloaded so far, from the Performance API. */
function downloads(): Download[] {
  const entries = [
    ...performance.getEntriesByType('navigation'),
    ...performance.getEntriesByType('resource'),
  ] as PerformanceResourceTiming[];
  return entries
    .filter((e) => !e.name.startsWith('data:'))
    .map((e) => ({
      path: e.name.startsWith(pageDir)
        ? e.name.slice(pageDir.length).split(/[?#]/)[0] || 'index.html'
        : e.name,
      part: e.entryType === 'navigation' ? 'page HTML' : partOf(e.name),
      bytes: e.encodedBodySize || e.decodedBodySize,
    }));
}

function renderDownloads(list: Download[]): void {
  const rows = list.map((d) => [d.path, d.part, fmtBytes(d.bytes), String(d.bytes)]);
  const sum = (parts: DownloadPart[]) =>
    list.filter((d) => parts.includes(d.part)).reduce((a, d) => a + d.bytes, 0);
  const model = sum(['model', 'vocab', 'config', 'knowledge', 'page JS']);
  const knows = list.some((d) => d.part === 'knowledge');
  const ortBytes = sum(['onnxruntime-web JS', 'onnxruntime-web wasm']);
  const what = `model + vocabulary + config${knows ? ' + knowledge' : ''} + page JS`;
  rows.push([what, '', fmtBytes(model), String(model)]);
  rows.push(['onnxruntime-web (JS + wasm)', '', fmtBytes(ortBytes), String(ortBytes)]);
  const teachBytes = sum(['teach JS', 'trainable weights', 'anchors']);
  if (teachBytes)
    rows.push([
      `teaching (teach.js + fp32 weights${list.some((d) => d.part === 'anchors') ? ' + anchors' : ''})`,
      '',
      fmtBytes(teachBytes),
      String(teachBytes),
    ]);
  downloadsBody.replaceChildren(
    ...rows.map((r, i) => {
      const tr = document.createElement('tr');
      if (i >= list.length) tr.className = 'total';
      for (const [j, v] of r.slice(0, 3).entries()) {
        const td = document.createElement('td');
        td.textContent = v;
        if (j === 2) {
          td.className = 'num';
          td.title = `${r[3]} bytes`;
        }
        tr.append(td);
      }
      return tr;
    }),
  );
}

function renderResults(results: PageResult[], labels: string[]): void {
  resultsBody.replaceChildren(
    ...results.map((r, i) => {
      const tr = document.createElement('tr');
      tr.dataset.label = String(r.label);
      tr.dataset.scores = JSON.stringify(r.scores);
      const cells = [String(i + 1), r.text, '', ''];
      const tds = cells.map((c) => {
        const td = document.createElement('td');
        td.textContent = c;
        return td;
      });
      tds[0].className = 'num';
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${Math.round(r.score * 4)}rem`;
      const label = document.createElement('span');
      label.className = 'label';
      label.textContent = `${r.label} ${r.score.toFixed(3)}`;
      tds[2].append(bar, label);
      tds[3].className = 'scores';
      tds[3].textContent = r.scores.map((s, k) => `${labels[k] ?? k} ${s.toFixed(4)}`).join('\n');
      tr.append(...tds);
      return tr;
    }),
  );
}

async function load(): Promise<Classifier> {
  const t0 = performance.now();
  const configBytes = await readModelFile('config.json');
  if (!configBytes) throw new Error(`${modelUrl}config.json: not found`);
  const config = JSON.parse(new TextDecoder().decode(configBytes)) as ExportedConfig;
  const files = config.minnow_export?.files;
  const asked = params.get('variant');
  if (asked !== null && asked !== 'compact' && asked !== 'portable')
    throw new Error(`variant=${asked}: compact or portable`);
  const variant = asked ?? (files?.compact ? 'compact' : 'portable');
  const quantized =
    params.get('quantized') !== '0' &&
    (!files || files[`${variant}_quantized` as ExportVariant] !== undefined);
  const clf = await Classifier.load(readModelFile, { ort, variant, quantized, threads: 1 });
  // The ONNX file is not read again; config.json and vocab.txt are, by the teach panel.
  for (const name of fetched.keys()) if (name.endsWith('.onnx')) fetched.delete(name);
  state.loadMs = performance.now() - t0;
  state.readyMs = performance.now();
  state.model = {
    url: modelUrl,
    file:
      files?.[`${variant}${quantized ? '_quantized' : ''}` as ExportVariant] ??
      (quantized ? 'onnx/model_quantized.onnx' : 'onnx/model.onnx'),
    variant,
    quantized,
    labels: clf.labels,
  };
  return clf;
}

async function main(): Promise<void> {
  let clf: Classifier;
  try {
    clf = await load();
  } catch (e) {
    state.status = 'error';
    state.error = `could not load the model from ${modelUrl}: ${(e as Error).message}`;
    setStatus(state.error, true);
    return;
  }
  const m = state.model!;
  setStatus(
    `Model ready in ${fmtMs(state.readyMs!)} after the page opened (loading it took ${fmtMs(state.loadMs!)}): ` +
      `${m.file} (${m.variant}, ${m.quantized ? 'int8' : 'fp32'}), labels ${m.labels.join(', ')}.`,
  );
  state.downloads = downloads();
  renderDownloads(state.downloads);
  state.status = 'ready';
  button.disabled = false;
  // A bag-of-n-grams model (minnow baseline) has no transformer for the panel to fine-tune.
  if (clf.tokenizer === undefined) {
    $<HTMLSpanElement>('teach-status').textContent =
      'This model is an n-gram baseline: teaching here fine-tunes transformers only (minnow baseline fits it again in seconds).';
  } else
    wireTeachPanel((next) => {
      void clf.release();
      clf = next;
      Object.assign(m, { file: 'personalised model (in memory)', quantized: false });
      setStatus(
        `Classify uses the personalised model (fp32, taught on this page); labels ${m.labels.join(', ')}.`,
      );
      // The results on show were the old model's: classify them again with the taught one.
      return state.results ? classifyLines() : Promise.resolve();
    });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void classifyLines();
  });

  /** Classify the textarea's non-empty lines (trimmed) and show them. */
  async function classifyLines(): Promise<void> {
    const { texts, unreadable } = typedLines();
    button.disabled = true;
    state.status = 'classifying';
    try {
      const t0 = performance.now();
      const out = await clf.classify(texts);
      state.classifyMs = performance.now() - t0;
      state.results = out.map((r, i) => ({ text: texts[i], ...r }));
      renderResults(state.results, m.labels);
      const skipped = unreadable
        ? `; ${unreadable} line${unreadable === 1 ? '' : 's'} of only control or zero-width characters left out`
        : '';
      timingEl.textContent = `${texts.length} line${texts.length === 1 ? '' : 's'} in ${fmtMs(state.classifyMs)}${skipped}`;
      state.status = 'done';
    } catch (e) {
      state.status = 'error';
      state.error = `classification failed: ${(e as Error).message}`;
      setStatus(state.error, true);
    } finally {
      button.disabled = false;
    }
  }
}

/**
 * The classify box's lines, trimmed; empty lines are left out, and so are lines of only control,
 * zero-width or format characters, which minnow predict and the server refuse as empty (util/blank.ts).
 */
function typedLines(): { texts: string[]; unreadable: number } {
  const lines = textsEl.value
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const texts = lines.filter((l) => !isBlank(l));
  return { texts, unreadable: lines.length - texts.length };
}

/** The teach panel's buttons: teach.js is fetched on the first click of Teach. */
function wireTeachPanel(onModel: (clf: Classifier) => Promise<void>): void {
  const teachButton = $<HTMLButtonElement>('teach');
  const downloadButton = $<HTMLButtonElement>('download');
  type TeachModule = typeof import('./teach-panel.js');
  let mod: Promise<TeachModule> | undefined;
  const teachState: TeachState = { status: 'loading', rounds: 0, losses: [] };
  // A computed URL: esbuild leaves the import alone, and the browser fetches teach.js next to page.js.
  const load = () => (mod ??= import(new URL('teach.js', import.meta.url).href) as Promise<TeachModule>);
  teachButton.disabled = false;
  teachButton.addEventListener('click', async () => {
    teachButton.disabled = true;
    state.teach = teachState;
    try {
      const t = await load();
      await t.teachRound({
        ort,
        read: readModelFile,
        source: modelUrl,
        state: teachState,
        classified: () => (state.results ?? []).map((r) => r.text),
        onModel,
      });
    } catch (e) {
      teachState.status = 'error';
      teachState.error = `could not load the teaching code: ${(e as Error).message}`;
      const el = $<HTMLSpanElement>('teach-status');
      el.textContent = teachState.error;
      el.classList.add('error');
    } finally {
      teachButton.disabled = false;
      state.downloads = downloads();
      renderDownloads(state.downloads);
    }
  });
  downloadButton.addEventListener('click', async () => (await load()).download());
}

void main();
