/**
 * The teach scenarios of scripts/teach-forgetting.ts taught in headless Chromium through the real page,
 * compared step by step with Node. The model is exported (`minnow export`) and the page built for it
 * (src/web/build.ts), served on 127.0.0.1 and opened in Chromium (playwright-core). For each scenario a
 * fresh page gets the sentences with their gold labels in the teach panel (`label | sentence`), its default
 * settings, a click on Teach; then `window.minnow.teach` is read and the taught model downloaded from the
 * page. The same round (examples, config, anchors from the page) runs in Node on onnxruntime-node, and
 * through `minnow teach --backend web` (onnxruntime-web's WebAssembly, the page's backend, in Node). Per scenario: steps, the largest |loss
 * difference| over the steps, the taught sentences the page's after-table shows flipped to their label
 * (and Node's, classified), SST-2 dev accuracy (fp32, in Node) of the page's downloaded model and of
 * Node's, and the status.
 *
 *   npx tsx scripts/teach-chromium.ts [--data ../shared/data | --shared ../shared] [--model models/sst2-sentiment]
 *     [--export DIR] [--scenarios 10] [--size 5] [--seed 0] [--out results]
 *
 * --data defaults to $SHARED/data when SHARED is set (else ../shared/data), as in teach-forgetting.ts;
 * --shared DIR is the same as --data DIR/data. --export reuses a `minnow export` folder of the model
 * (else one is made in a temporary folder with dist/'s CLI, or MINNOW_CLI). Writes OUT/teach-chromium.md
 * and OUT/teach-chromium.json. Needs Chromium (/usr/bin/chromium or `chromium` on PATH).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { readTask } from '../src/data/task.js';
import { loadModel } from '../src/model/io.js';
import { type Model, modelFromFiles } from '../src/model/model.js';
import { readZip } from '../src/util/zip.testkit.js';
import { buildPage, CHROMIUM_ARGS, findChromium, serveFolder } from '../src/web/build.js';
import {
  pageSettled,
  pageState,
  teachLikePage,
  teachSettled,
  teachWebArgs,
} from '../src/web/page.testkit.js';
import type { TeachState } from '../src/web/teach-panel.js';
import { mean, ROOT, runMinnow } from './lib/minnow.js';
import { predictedLabels, readAnchors, teachScenarios } from './lib/teach-scenarios.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    shared: { type: 'string' },
    model: { type: 'string', default: join(ROOT, 'models', 'sst2-sentiment') },
    export: { type: 'string' },
    scenarios: { type: 'string', default: '10' },
    size: { type: 'string', default: '5' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: join(ROOT, 'results') },
  },
});
const sharedData = process.env.SHARED ? join(process.env.SHARED, 'data') : join(ROOT, '..', 'shared', 'data');
const dataDir = values.data ?? (values.shared ? join(values.shared, 'data') : sharedData);
const sst2 = join(dataDir, 'glue', 'SST-2');
if (!existsSync(join(sst2, 'train.tsv'))) {
  process.stderr.write(
    `teach-chromium: ${sst2}/train.tsv not found (give --data DIR, the shared data folder, or --shared DIR)\n`,
  );
  process.exit(2);
}
const executablePath = findChromium();
if (!executablePath) {
  process.stderr.write('teach-chromium: no Chromium (neither /usr/bin/chromium nor chromium on PATH)\n');
  process.exit(1);
}
const modelDir = resolve(values.model!);
const nScenarios = Number(values.scenarios);
const size = Number(values.size);
const seed = Number(values.seed);
// As teach-forgetting.ts: one thread (the page teaches on one too).
const threads = 1;

const t00 = performance.now();
const anchors = readAnchors(modelDir);
const base = loadModel(modelDir, { numLabels: 2 });
const { scenarios, wrong, sampled } = await teachScenarios({
  sst2,
  model: base,
  anchors,
  seed,
  count: nScenarios,
  size,
  threads,
});
// The scenarios results/teach.md was made with (teach-forgetting.ts records them), when it is there.
const recordedFile = join(ROOT, 'results', 'teach.json');
const sameAsTeachJson = existsSync(recordedFile)
  ? JSON.stringify((JSON.parse(readFileSync(recordedFile, 'utf8')) as { scenarios: unknown }).scenarios) ===
    JSON.stringify(scenarios.map((xs) => xs.map((e) => ({ text: e.text, label: e.label }))))
  : undefined;
const names = Object.values(base.config.id2label ?? {}) as string[];
const dev = readTask({ task: 'sst2', data: sst2 }, 'dev').examples;
const devAccuracy = async (m: Model) => {
  const p = await predictedLabels(m, dev, threads);
  return (100 * p.filter((y, i) => y === dev[i].label).length) / dev.length;
};
const baseDev = await devAccuracy(base);
process.stderr.write(
  `model ${relative(ROOT, modelDir)}: dev ${baseDev.toFixed(2)}; ${wrong} of ${sampled} sampled train sentences wrong; ${anchors.length} anchors\n`,
);

const tmp = mkdtempSync(join(tmpdir(), 'minnow-teach-chromium-'));
const exported = values.export ? resolve(values.export) : join(tmp, 'export');
if (!values.export) runMinnow(['export', '--model', modelDir, '--out', exported]);
const site = await buildPage(join(tmp, 'site'), { model: exported });
const server = await serveFolder(site.dir);
const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
const chromiumVersion = browser.version();

interface Side {
  steps: number;
  status: string;
  losses: number[];
  flipped: number;
  dev: number;
  seconds: number;
}
interface Row {
  scenario: number;
  examples: { text: string; label: number }[];
  /** The page's teach state status ('done' or 'error') and its error. */
  pageStatus: string;
  pageError?: string;
  anchors: number;
  guardChanged?: number;
  chromium: Side;
  node: Side;
  /** `minnow teach --backend web` (onnxruntime-web's WebAssembly in Node): steps and losses. */
  nodeWeb: { steps: number; status: string; losses: number[] };
  /** max |loss difference| over the steps both took; NaN when one took none. */
  maxLossDiff: number;
  maxLossDiffWeb: number;
  maxLossDiffChromiumWeb: number;
}
const maxDiff = (a: number[], b: number[]) => {
  const n = Math.min(a.length, b.length);
  let d = n ? 0 : Number.NaN;
  for (let i = 0; i < n; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

/** The first step (1-based) whose |loss difference| is above `tol`; 0 when none is. */
const firstOver = (a: number[], b: number[], tol: number) => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (Math.abs(a[i] - b[i]) > tol) return i + 1;
  return 0;
};

/**
 * The page's round through `minnow teach --backend web` (onnxruntime-web's WebAssembly in Node, one thread):
 * the page's examples, anchors and settings as files and flags.
 */
function teachWeb(
  s: number,
  taught: TeachState,
): { result: { updates: number; status: string; losses: number[] } } {
  const dir = mkdtempSync(join(tmp, `web-${s}-`));
  const out = runMinnow(teachWebArgs(exported, taught, names, dir, join(dir, 'taught')));
  return JSON.parse(out) as { result: { updates: number; status: string; losses: number[] } };
}

const rows: Row[] = [];
try {
  for (const [s, group] of scenarios.entries()) {
    const examples = group.map((e) => ({ text: e.text, label: e.label }));
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    let taught: TeachState;
    let chromiumDev = Number.NaN;
    try {
      await page.goto(server.url);
      await pageSettled(page, ['ready', 'error'], 60_000);
      const loaded = await pageState(page);
      if (loaded.status !== 'ready') throw new Error(`page: ${loaded.error}`);
      await page.fill('#examples', examples.map((e) => `${names[e.label]} | ${e.text}`).join('\n'));
      await page.click('#teach');
      await teachSettled(page, 300_000);
      taught = (await pageState(page)).teach!;
      if (taught.status === 'done') {
        // The taught model as the page offers it (a zip of a model folder), scored on SST-2 dev in Node.
        const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
        const zipped = join(tmp, `scenario-${s}.zip`);
        await dl.saveAs(zipped);
        const entries = readZip(new Uint8Array(readFileSync(zipped)));
        const file = (n: string) => entries.get(`minnow-personalised/${n}`)!;
        const dec = new TextDecoder();
        const m = modelFromFiles(
          {
            'config.json': dec.decode(file('config.json')),
            'model.safetensors': file('model.safetensors'),
            'vocab.txt': dec.decode(file('vocab.txt')),
          },
          'page download',
          { numLabels: 2 },
        );
        chromiumDev = await devAccuracy(m);
      }
    } finally {
      await page.close();
    }
    if (consoleErrors.length)
      process.stderr.write(`scenario ${s}: page errors: ${consoleErrors.join(' | ')}\n`);
    if (
      JSON.stringify(taught.examples?.map((e) => [e.label, e.text])) !==
      // The panel trims each line (SST-2's train sentences end in a space; the tokenizer drops it anyway).
      JSON.stringify(examples.map((e) => [e.label, e.text.trim()]))
    )
      throw new Error(
        `scenario ${s}: the page read other examples than were typed (${taught.status}: ${taught.error})`,
      );
    const result = taught.result!;

    const t0 = performance.now();
    const node = await teachLikePage(exported, taught);
    const nodeSeconds = (performance.now() - t0) / 1000;
    const nodeAfter = await predictedLabels(node.model, group, threads);
    const web = teachWeb(s, taught);
    const row: Row = {
      scenario: s,
      examples,
      pageStatus: taught.status,
      pageError: taught.error,
      anchors: taught.anchors?.length ?? 0,
      guardChanged: taught.guard?.changed,
      chromium: {
        steps: result.updates,
        status: result.status,
        losses: taught.losses,
        flipped: taught.after
          ? taught.after.filter((c, i) => c.label === names[examples[i].label]).length / examples.length
          : Number.NaN,
        dev: chromiumDev,
        seconds: (taught.trainMs ?? Number.NaN) / 1000,
      },
      node: {
        steps: node.result.updates,
        status: node.result.status,
        losses: node.result.losses,
        flipped: nodeAfter.filter((y, i) => y === examples[i].label).length / examples.length,
        dev: await devAccuracy(node.model),
        seconds: nodeSeconds,
      },
      nodeWeb: { steps: web.result.updates, status: web.result.status, losses: web.result.losses },
      maxLossDiff: maxDiff(taught.losses, node.result.losses),
      maxLossDiffWeb: maxDiff(web.result.losses, node.result.losses),
      maxLossDiffChromiumWeb: maxDiff(taught.losses, web.result.losses),
    };
    rows.push(row);
    process.stderr.write(
      `scenario ${s}: Chromium ${row.chromium.steps} steps (${row.chromium.status}, page ${row.pageStatus}), ` +
        `Node ${row.node.steps} (${row.node.status}), minnow teach --backend web ${row.nodeWeb.steps}; ` +
        `max |loss diff| Chromium-Node ${row.maxLossDiff.toExponential(2)}, Chromium-web ${row.maxLossDiffChromiumWeb.toExponential(2)}; ` +
        `flipped ${row.chromium.flipped * size}/${size} vs ${row.node.flipped * size}/${size}; ` +
        `dev ${row.chromium.dev.toFixed(2)} vs ${row.node.dev.toFixed(2)}; ${row.chromium.seconds.toFixed(2)} s vs ${row.node.seconds.toFixed(2)} s\n`,
    );
  }
} finally {
  await browser.close();
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
}
const minutes = (performance.now() - t00) / 60_000;

const sameSteps = rows.filter((r) => r.chromium.steps === r.node.steps).length;
const worst = Math.max(...rows.map((r) => r.maxLossDiff));
const worstChromiumWeb = Math.max(...rows.map((r) => r.maxLossDiffChromiumWeb));
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const summary = {
  chromium: {
    flipped: 100 * mean(rows.map((r) => r.chromium.flipped)),
    dev: mean(rows.map((r) => r.chromium.dev)),
    steps: mean(rows.map((r) => r.chromium.steps)),
    seconds: mean(rows.map((r) => r.chromium.seconds)),
  },
  node: {
    flipped: 100 * mean(rows.map((r) => r.node.flipped)),
    dev: mean(rows.map((r) => r.node.dev)),
    steps: mean(rows.map((r) => r.node.steps)),
    seconds: mean(rows.map((r) => r.node.seconds)),
  },
  sameSteps,
  maxLossDiff: worst,
  maxLossDiffChromiumWeb: worstChromiumWeb,
  pageDone: rows.filter((r) => r.pageStatus === 'done').length,
};

const dataArg = values.data ? ` --data ${relative(ROOT, resolve(values.data)) || '.'}` : '';
const sharedArg = values.shared ? ` --shared ${relative(ROOT, resolve(values.shared)) || '.'}` : '';
const rest = [
  values.model !== join(ROOT, 'models', 'sst2-sentiment') ? ` --model ${relative(ROOT, modelDir)}` : '',
  values.scenarios !== '10' ? ` --scenarios ${nScenarios}` : '',
  values.size !== '5' ? ` --size ${size}` : '',
  values.seed !== '0' ? ` --seed ${seed}` : '',
].join('');
const command = `npx tsx scripts/teach-chromium.ts${dataArg}${sharedArg}${rest}`;
const agree = sameSteps === rows.length && worst <= 1e-2;
const md = [
  `# Teaching in Chromium through the page: ${relative(ROOT, modelDir)}`,
  '',
  `Command: \`${command}\` (${minutes.toFixed(1)} minutes; Chromium ${chromiumVersion}, headless)`,
  '',
  `The ${nScenarios} scenarios of results/teach.md${sameAsTeachJson === undefined ? '' : sameAsTeachJson ? ' (the same sentences as results/teach.json)' : ' (NOT the sentences of results/teach.json)'} (${size} SST-2 train sentences the model gets wrong, 6+ words, seed ${seed}; ` +
    `${wrong} of ${sampled} sampled sentences wrong), each typed into the page's teach panel as \`label | sentence\` with its gold label, ` +
    `the panel's default settings (at most 100 steps, learning rate 0.001, whole model: minnow teach's defaults) and Teach clicked, ` +
    `one fresh page per scenario (the page's anchors: the export's anchors.txt, ${rows[0]?.anchors ?? 0} texts). ` +
    `Node ran the same round (the page's examples, config and anchors) from the same exported files on onnxruntime-node, one thread. ` +
    `Loss diff = the largest |loss difference| over the steps both took; flipped = the taught sentences labelled as taught after ` +
    `(Chromium: the page's after-table; Node: classified); dev = SST-2 dev accuracy (fp32, scored in Node) of the model the page offers ` +
    `for download, and of Node's (the model alone: ${baseDev.toFixed(2)}).`,
  '',
  '| scenario | steps Chromium | steps Node | max loss diff | steps Node, --backend web | max loss diff Chromium - web | flipped Chromium | flipped Node | dev Chromium | dev Node | status Chromium / Node | seconds Chromium / Node |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${r.chromium.steps} | ${r.node.steps} | ${r.maxLossDiff.toExponential(2)} | ${r.nodeWeb.steps} | ${r.maxLossDiffChromiumWeb.toExponential(2)} | ${pct(r.chromium.flipped)} | ${pct(r.node.flipped)} | ` +
      `${r.chromium.dev.toFixed(2)} | ${r.node.dev.toFixed(2)} | ${r.chromium.status}${r.pageStatus === 'done' ? '' : ` (page: ${r.pageStatus})`} / ${r.node.status} | ` +
      `${r.chromium.seconds.toFixed(2)} / ${r.node.seconds.toFixed(2)} |`,
  ),
  `| mean | ${summary.chromium.steps.toFixed(1)} | ${summary.node.steps.toFixed(1)} | ${worst.toExponential(2)} (max) | ` +
    `${mean(rows.map((r) => r.nodeWeb.steps)).toFixed(1)} | ${worstChromiumWeb.toExponential(2)} (max) | ` +
    `${summary.chromium.flipped.toFixed(0)}% | ${summary.node.flipped.toFixed(0)}% | ${summary.chromium.dev.toFixed(2)} | ${summary.node.dev.toFixed(2)} | ` +
    `${summary.pageDone} of ${rows.length} done on the page | ${summary.chromium.seconds.toFixed(2)} / ${summary.node.seconds.toFixed(2)} |`,
  '',
  `Steps agree in ${sameSteps} of ${rows.length} scenarios; the largest loss difference between Chromium and onnxruntime-node is ` +
    `${worst.toExponential(2)}, and between Chromium and \`minnow teach --backend web\` (onnxruntime-web's WebAssembly in Node) ${worstChromiumWeb.toExponential(2)}. ` +
    (agree
      ? 'Within float noise (steps equal, losses within 1e-2).'
      : 'NOT within float noise (different step counts, or losses differing by more than 1e-2): ' +
        rows
          .filter((r) => r.chromium.steps !== r.node.steps || r.maxLossDiff > 1e-2)
          .map(
            (r) =>
              `scenario ${r.scenario} took ${r.chromium.steps} steps in Chromium and ${r.node.steps} in Node; ` +
              `their losses first differ by more than 1e-3 at step ${firstOver(r.chromium.losses, r.node.losses, 1e-3)} ` +
              `and by more than 1e-2 at step ${firstOver(r.chromium.losses, r.node.losses, 1e-2)}`,
          )
          .join('; ') +
        '.') +
    (worstChromiumWeb <= 1e-6
      ? ' Chromium gives the losses of `minnow teach --backend web` (to 1e-6, same steps in ' +
        `${rows.filter((r) => r.chromium.steps === r.nodeWeb.steps).length} of ${rows.length}): ` +
        'the differences are those of onnxruntime-web (WebAssembly) against onnxruntime-node, not of the browser.'
      : '') +
    ` Dev change on the mean: Chromium ${(summary.chromium.dev - baseDev).toFixed(2)}, Node ${(summary.node.dev - baseDev).toFixed(2)}.`,
  '',
].join('\n');
writeFileSync(join(values.out!, 'teach-chromium.md'), md);
writeFileSync(
  join(values.out!, 'teach-chromium.json'),
  `${JSON.stringify(
    {
      command,
      model: relative(ROOT, modelDir),
      chromium: chromiumVersion,
      minutes,
      baseDev,
      sameAsTeachJson,
      summary,
      rows,
    },
    (_k, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v),
    2,
  )}\n`,
);
process.stdout.write(md);
