/**
 * The classification page in a real browser: src/web/build.ts builds it into a temporary folder with a
 * tiny exported hash model (uno-eelbert fine-tuned on the glue-mini fixture) in model/, a static server on
 * 127.0.0.1 serves it, and headless Chromium (playwright-core) opens it, types sentences, clicks Classify
 * and reads the result rows. Checked: the page's labels and scores equal minnow's runtime in Node
 * (onnxruntime-node, same folder, same compact int8 file); what the page downloaded (reported by the page
 * from the Performance API, and counted by the server); and that no request went anywhere but the server.
 *
 * Download total counted: the ONNX file in use + vocab.txt + config.json + page.js (page script and
 * minnow's runtime). Not counted in it (reported apart): onnxruntime-web's JS bundle (its JS glue inside)
 * and .wasm, and index.html.
 *
 * Assumes dist/ is built (npm test builds it first): the model is made with the CLI. Skips when no
 * Chromium is installed (/usr/bin/chromium or `chromium` on PATH).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { type Browser, chromium, type Page } from 'playwright-core';
import { runtimeBundle } from '../../scripts/runtime-size.js';
import { CLI } from '../cli/cli.testkit.js';
import { folderReader } from '../infer/load.js';
import { type Classification, Classifier, type OrtModule } from '../infer/runtime.js';
import { GLUE_MINI as DATA, SENTIMENT_FACTS, tinyExport } from '../infer/tiny-export.testkit.js';
import type { OrtBackend } from '../runtime/session.js';
import { readZip } from '../util/zip.testkit.js';
import {
  buildPage,
  CHROMIUM_ARGS,
  findChromium,
  ORT_JS,
  ORT_WASM,
  PAGE_ENTRY,
  type PageBuild,
  serveFolder,
  type StaticServer,
} from './build.js';
import type { DownloadPart, PageState } from './page.js';
import { pageSettled, pageState, teachLikePage, teachSettled, teachWebArgs } from './page.testkit.js';

/** Scores of the page against onnxruntime-node (probabilities, int8 model). */
const SCORE_TOL = 1e-4;

const CHROMIUM = findChromium();
const skip = CHROMIUM ? false : 'no Chromium: neither /usr/bin/chromium nor chromium on PATH';

/** Ten sentences: fixture dev sentences of both classes, and a few the model has not seen. */
const TEXTS = [
  ...readFileSync(join(DATA, 'dev.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1, 7)
    .map((l) => l.split('\t')[0]),
  'a',
  'WONDERFUL!!! and funny , a warm , charming delight … 😀',
  'the plot is boring but the acting is superb',
  Array.from({ length: 60 }, (_, i) => (i % 3 ? 'boring' : 'wonderful film')).join(' '),
];

/** What the teach test labels: sentences the tiny model has not seen, two classes. */
const TEACH: [string, string][] = [
  ['positive', 'a masterpiece of tedium , and i loved every minute'],
  ['negative', 'the special effects are stunning but the story is hollow'],
  ['positive', 'not the best film of the year , but a lovely one'],
  ['negative', 'charming actors stuck in a lifeless script'],
  ['positive', 'slow , strange and wonderful'],
  ['negative', 'a handsome , empty film'],
];

/** Open the page on `url` in `other`, wait for the model, classify TEXTS; the load and the classify states. */
async function classifyOnPage(other: Page, url: string): Promise<{ loaded: PageState; state: PageState }> {
  await other.goto(url);
  await pageSettled(other, ['ready', 'error']);
  const loaded = await pageState(other);
  assert.equal(loaded.status, 'ready', loaded.error);
  await other.fill('#texts', TEXTS.join('\n'));
  await other.click('#classify');
  await pageSettled(other, ['done', 'error']);
  const state = await pageState(other);
  assert.equal(state.status, 'done', state.error);
  return { loaded, state };
}

describe('the classification page in headless Chromium', () => {
  let tmp = '';
  let exported = '';
  let kbert = '';
  let ngramExport = '';
  let site: PageBuild;
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const consoleErrors: string[] = [];

  before(async () => {
    if (!CHROMIUM) return;
    tmp = mkdtempSync(join(tmpdir(), 'minnow-page-'));
    exported = tinyExport(tmp).folder;
    site = await buildPage(join(tmp, 'site'), { model: exported });
    // A K-BERT model (eelbert-tiny fine-tuned with hand-written facts), served beside it at ./kbert/.
    kbert = tinyExport(tmp, 'eelbert-tiny', 'kbert', ['--knowledge', SENTIMENT_FACTS]).folder;
    cpSync(kbert, join(site.dir, 'kbert'), { recursive: true });
    // An n-gram baseline (minnow baseline), exported with int8, served at ./ngram/.
    const ngram = join(tmp, 'ngram');
    const fitted = spawnSync(
      process.execPath,
      [CLI, 'baseline', '--task', 'sst2', '--data', DATA, '--out', ngram, '--buckets', '4096'],
      { encoding: 'utf8' },
    );
    assert.equal(fitted.status, 0, fitted.stderr);
    ngramExport = join(tmp, 'ngram-export');
    const ex = spawnSync(process.execPath, [CLI, 'export', '--model', ngram, '--out', ngramExport], {
      encoding: 'utf8',
    });
    assert.equal(ex.status, 0, ex.stderr);
    cpSync(ngramExport, join(site.dir, 'ngram'), { recursive: true });
    server = await serveFolder(site.dir);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext();
    context.on('request', (r) => requests.push(r.url()));
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(
      () => {
        const s = (window as unknown as { minnow?: PageState }).minnow?.status;
        return s === 'ready' || s === 'error';
      },
      undefined,
      { timeout: 20_000 },
    );
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test(
    'classifies typed lines like the runtime in Node (onnxruntime-node, compact int8)',
    { skip },
    async (t) => {
      const loaded = await pageState(page);
      assert.equal(loaded.status, 'ready', `page: ${loaded.error}; console: ${consoleErrors.join(' | ')}`);
      assert.deepEqual(
        { file: loaded.model!.file, variant: loaded.model!.variant, quantized: loaded.model!.quantized },
        { file: 'onnx/model_compact_quantized.onnx', variant: 'compact', quantized: true },
      );
      // Empty lines, and lines of only zero-width or control characters (predict refuses both), are left out.
      await page.fill(
        '#texts',
        ['', ...TEXTS.map((x) => `  ${x}`), '\u200b', ' \u0000\ufeff ', '', ''].join('\n'),
      );
      await page.click('#classify');
      await page.waitForFunction(() => {
        const s = (window as unknown as { minnow: PageState }).minnow.status;
        return s === 'done' || s === 'error';
      });
      const rows = await page.$$eval('#results tbody tr', (trs) =>
        trs.map((tr) => ({
          text: tr.children[1].textContent ?? '',
          label: (tr as HTMLElement).dataset.label ?? '',
          shownLabel: tr.querySelector('.label')?.textContent ?? '',
          scores: JSON.parse((tr as HTMLElement).dataset.scores ?? '[]') as number[],
        })),
      );
      const state = await pageState(page);
      assert.equal(state.status, 'done', state.error);
      assert.match(
        (await page.textContent('#timing')) ?? '',
        /; 2 lines of only control or zero-width characters left out$/,
      );

      const clf = await Classifier.load(folderReader(exported), {
        ort: ortNode as unknown as OrtModule,
        variant: 'compact',
        quantized: true,
      });
      let node: Classification[];
      try {
        node = await clf.classify(TEXTS);
      } finally {
        await clf.release();
      }
      assert.deepEqual(
        rows.map((r) => r.text),
        TEXTS,
        'one row per non-empty line, trimmed',
      );
      let maxDiff = 0;
      rows.forEach((r, i) => {
        assert.equal(r.label, node[i].label, `line ${i + 1} (${TEXTS[i]})`);
        assert.ok(r.shownLabel.startsWith(`${node[i].label} `), r.shownLabel);
        for (const [k, s] of r.scores.entries()) maxDiff = Math.max(maxDiff, Math.abs(s - node[i].scores[k]));
      });
      const labels = new Set(node.map((r) => r.label));
      t.diagnostic(
        `${TEXTS.length} lines in ${state.classifyMs!.toFixed(1)} ms; labels ${[...labels].join('/')}; ` +
          `max |score diff| page vs onnxruntime-node ${maxDiff.toExponential(2)}; model ready ${state.readyMs!.toFixed(0)} ms after navigation (load ${state.loadMs!.toFixed(0)} ms)`,
      );
      assert.equal(labels.size, 2, 'the tiny model predicts both classes on these lines');
      assert.ok(maxDiff <= SCORE_TOL, `scores differ by ${maxDiff}`);
    },
  );

  test(
    'downloads: the model file, vocabulary, config and page.js, all from 127.0.0.1',
    { skip },
    async (t) => {
      const state = await pageState(page);
      assert.ok(state.downloads, `page: ${state.status} ${state.error ?? ''}`);
      const size = (path: string) => site.files.find((f) => f.path === path)?.bytes;
      const byPart = (part: DownloadPart) => state.downloads!.filter((d) => d.part === part);
      // The page's own account (Performance API), file by file, against the files' sizes.
      const expected: [DownloadPart, string][] = [
        ['model', 'model/onnx/model_compact_quantized.onnx'],
        ['vocab', 'model/vocab.txt'],
        ['config', 'model/config.json'],
        ['page JS', 'page.js'],
        ['onnxruntime-web JS', ORT_JS],
        ['onnxruntime-web wasm', ORT_WASM],
      ];
      for (const [part, path] of expected)
        assert.deepEqual(byPart(part), [{ path, part, bytes: size(path) }], part);
      assert.deepEqual(byPart('page HTML'), [
        { path: 'index.html', part: 'page HTML', bytes: size('index.html') },
      ]);
      assert.deepEqual(byPart('other'), [], 'nothing else downloaded');
      // The server's account: each file once, 200, the same bytes.
      const served = server.log.map((r) => `${r.status} ${r.path} ${r.bytes}`);
      assert.deepEqual(
        served.sort(),
        [['index.html', '/'], ...expected.map(([, p]) => [p, `/${p}`])]
          .map(([p, url]) => `200 ${url} ${size(p)}`)
          .sort(),
      );
      // No request but to the server (page, workers, everything in the browser context).
      const foreign = requests.filter((u) => !u.startsWith(server.url));
      assert.deepEqual(foreign, [], 'requests that left 127.0.0.1');

      const b = (path: string) => size(path)!;
      const model = b('model/onnx/model_compact_quantized.onnx');
      const total = model + b('model/vocab.txt') + b('model/config.json') + b('page.js');
      t.diagnostic(
        `counted ${total} bytes = model_compact_quantized.onnx ${model} + vocab.txt ${b('model/vocab.txt')} + ` +
          `config.json ${b('model/config.json')} + page.js ${b('page.js')}; not counted: ${ORT_JS} ${b(ORT_JS)}, ` +
          `${ORT_WASM} ${b(ORT_WASM)}, index.html ${b('index.html')}; ${requests.length} requests, all to ${server.url}`,
      );
      // A guard, not a target: this tiny model's page measures 0.57 MB.
      assert.ok(total < 1_000_000, `${total} bytes`);
    },
  );

  test(
    'teach it: the browser gives the losses of the same run in Node, keeps a guard set, refreshes the results, and the download loads in minnow predict',
    { skip },
    async (t) => {
      const resultsBefore = (await pageState(page)).results!;
      await page.fill('#examples', TEACH.map(([label, text]) => `${label} | ${text}`).join('\n'));
      await page.fill('#steps', '10');
      await page.click('#teach');
      await teachSettled(page);
      const state = await pageState(page);
      const taught = state.teach!;
      assert.equal(taught.status, 'done', `${taught.error}; console: ${consoleErrors.join(' | ')}`);
      assert.deepEqual(
        taught.examples!.map((e) => [e.label, e.text]),
        TEACH.map(([label, text]) => [label === 'positive' ? 1 : 0, text]),
      );
      // The anchors: the lines classified before (this folder ships no anchors.txt).
      assert.deepEqual(taught.anchors, TEXTS);
      const result = taught.result!;
      assert.ok(result.updates >= 1 && result.updates <= 10, `${result.updates} steps`);
      assert.equal(taught.losses.length, result.updates);

      // The same run in Node, from the same files: onnxruntime-web (same wasm) and onnxruntime-node.
      const run = (backend?: OrtBackend) =>
        teachLikePage(exported, taught, backend).then((r) => r.result.losses);
      (ortWeb.env.wasm as { numThreads?: number }).numThreads = 1;
      const web = await run(ortWeb as unknown as OrtBackend);
      const node = await run();
      const diff = (a: number[]) => Math.max(...a.map((l, i) => Math.abs(l - taught.losses[i])));
      t.diagnostic(
        `browser losses ${taught.losses.map((l) => l.toFixed(5)).join(' ')} in ${taught.trainMs!.toFixed(0)} ms (${result.message}); ` +
          `max |browser - Node onnxruntime-web| ${diff(web).toExponential(2)}, |browser - onnxruntime-node| ${diff(node).toExponential(2)}`,
      );
      assert.equal(web.length, taught.losses.length);
      assert.ok(diff(web) <= 1e-6, `browser vs Node onnxruntime-web: ${diff(web)}`);
      assert.ok(diff(node) <= 1e-3, `browser vs onnxruntime-node: ${diff(node)}`);

      // minnow teach --backend web on the same folder, examples, anchors and settings: the page's losses.
      const webTeach = spawnSync(
        process.execPath,
        [CLI, ...teachWebArgs(exported, taught, ['negative', 'positive'], tmp, join(tmp, 'taught-web'))],
        { encoding: 'utf8' },
      );
      assert.equal(webTeach.status, 0, webTeach.stderr);
      const cliLosses = (JSON.parse(webTeach.stdout) as { result: { losses: number[] } }).result.losses;
      t.diagnostic(`max |browser - minnow teach --backend web| ${diff(cliLosses).toExponential(2)}`);
      assert.equal(cliLosses.length, taught.losses.length);
      assert.ok(diff(cliLosses) <= 1e-12, `browser vs minnow teach --backend web: ${diff(cliLosses)}`);
      assert.notDeepEqual(taught.after, taught.before, 'the predictions moved');

      // The table: the taught rows, then the guard set (its labels before and after).
      const rows = await page.$$eval('#before-after tbody tr', (trs) =>
        trs.map((tr) => ({ kind: (tr as HTMLElement).dataset.kind ?? '', text: tr.textContent ?? '' })),
      );
      assert.equal(rows.filter((r) => r.kind === 'taught').length, TEACH.length);
      assert.equal(rows.filter((r) => r.kind === 'guard').length, TEXTS.length);
      assert.match(
        rows[TEACH.length].text,
        new RegExp(`^Guard set: ${taught.guard!.changed} of ${TEXTS.length} anchor texts changed label$`),
      );
      // The status says how many examples the steps used.
      assert.match(
        (await page.textContent('#teach-status')) ?? '',
        new RegExp(
          `trained on ${result.taughtSeen} of ${TEACH.length} taught examples \\(${TEACH.length} a step\\) and ${result.anchorsSeen} of ${TEXTS.length} anchor texts`,
        ),
      );
      // The results on show were classified again by the taught model (fp32), as the guard's "after".
      const refreshed = state.results!;
      assert.deepEqual(
        refreshed.map((r) => r.text),
        resultsBefore.map((r) => r.text),
      );
      refreshed.forEach((r, i) => assert.deepEqual(r.scores, taught.guard!.after[i].scores, `line ${i + 1}`));
      assert.notDeepEqual(
        refreshed.map((r) => r.scores),
        resultsBefore.map((r) => r.scores),
        'the results table shows the taught model',
      );
      const shownScores = await page.$$eval('#results tbody tr', (trs) =>
        trs.map((tr) => JSON.parse((tr as HTMLElement).dataset.scores ?? '[]') as number[]),
      );
      assert.deepEqual(
        shownScores,
        refreshed.map((r) => r.scores),
      );

      // Teaching fetched teach.js and the fp32 weights, nothing twice.
      const parts = state.downloads!.map((d) => `${d.part} ${d.path}`);
      assert.ok(
        parts.includes('teach JS teach.js') && parts.includes('trainable weights model/model.safetensors'),
        parts.join(', '),
      );
      const twice = server.log.map((r) => r.path).filter((p, i, all) => all.indexOf(p) !== i);
      assert.deepEqual(twice, [], 'files fetched twice');

      // The download: a zip of a model directory that minnow predict loads, predicting what the page does.
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
      assert.equal(dl.suggestedFilename(), 'minnow-personalised.zip');
      const zipped = join(tmp, 'personalised.zip');
      await dl.saveAs(zipped);
      const entries = readZip(new Uint8Array(readFileSync(zipped)));
      assert.deepEqual([...entries.keys()].sort(), [
        'minnow-personalised/config.json',
        'minnow-personalised/model.safetensors',
        'minnow-personalised/vocab.txt',
      ]);
      for (const [name, bytes] of entries) {
        mkdirSync(dirname(join(tmp, 'unzipped', name)), { recursive: true });
        writeFileSync(join(tmp, 'unzipped', name), bytes);
      }
      const input = join(tmp, 'taught.txt');
      writeFileSync(input, `${TEACH.map(([, text]) => text).join('\n')}\n`);
      const cli = spawnSync(
        process.execPath,
        [
          CLI,
          'predict',
          '--model',
          join(tmp, 'unzipped', 'minnow-personalised'),
          '--input',
          input,
          '--json',
          '--threads',
          '1',
        ],
        { encoding: 'utf8' },
      );
      assert.equal(cli.status, 0, cli.stderr);
      const predicted = cli.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Classification);
      let maxDiff = 0;
      predicted.forEach((p, i) => {
        assert.equal(p.label, taught.after![i].label, `example ${i + 1}`);
        for (const [k, x] of p.scores.entries())
          maxDiff = Math.max(maxDiff, Math.abs(x - taught.after![i].scores[k]));
      });
      t.diagnostic(
        `minnow predict on the downloaded model vs the page after teaching: max |score diff| ${maxDiff.toExponential(2)}`,
      );
      assert.ok(maxDiff <= SCORE_TOL, `scores differ by ${maxDiff}`);
    },
  );

  test(
    'on a phone (390 x 844): nothing is wider than the screen, before and after teaching',
    { skip },
    async (t) => {
      const width = () =>
        page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          // The right edge of every scores cell, and of the widest table.
          right: Math.max(
            ...[...document.querySelectorAll('td, th, table, svg')].map(
              (e) => e.getBoundingClientRect().right,
            ),
          ),
        }));
      const before = page.viewportSize();
      await page.setViewportSize({ width: 390, height: 844 });
      try {
        const taught = await width(); // the main page: results, the teach tables with the guard set, downloads
        const other = await page.context().newPage();
        await other.setViewportSize({ width: 390, height: 844 });
        let fresh: { scroll: number };
        try {
          await classifyOnPage(other, server.url);
          fresh = await other.evaluate(() => ({ scroll: document.documentElement.scrollWidth }));
        } finally {
          await other.close();
        }
        t.diagnostic(
          `scrollWidth at 390 px: ${taught.scroll} after teaching (rightmost cell ${taught.right.toFixed(0)}), ${fresh.scroll} on a fresh page`,
        );
        assert.ok(taught.scroll <= 390, `page ${taught.scroll} px wide after teaching`);
        assert.ok(taught.right <= 390, `a cell ends at ${taught.right} px`);
        assert.ok(fresh.scroll <= 390, `page ${fresh.scroll} px wide`);
      } finally {
        if (before) await page.setViewportSize(before);
      }
    },
  );

  test(
    'teach errors look like errors; a diverging run is rolled back with a message and the model unchanged',
    { skip },
    async (t) => {
      const other = await page.context().newPage();
      try {
        const { state: classified } = await classifyOnPage(other, server.url);
        const shown = () =>
          other.$eval('#teach-status', (e) => ({
            text: e.textContent ?? '',
            error: e.classList.contains('error'),
            color: getComputedStyle(e).color,
          }));
        await other.fill('#examples', 'positive | fine\nneutral | so-so');
        await other.click('#teach');
        await teachSettled(other);
        const bad = await shown();
        assert.match(
          bad.text,
          /^Could not teach: line 2: unknown label "neutral" \(one of negative, positive\)$/,
        );
        assert.equal(bad.error, true);
        assert.equal(bad.color, 'rgb(176, 0, 32)');

        await other.fill('#examples', TEACH.map(([label, text]) => `${label} | ${text}`).join('\n'));
        await other.fill('#lr', '0.1');
        await other.fill('#steps', '100');
        await other.click('#teach');
        await teachSettled(other);
        const state = await pageState(other);
        const diverged = await shown();
        t.diagnostic(
          `lr 0.1: ${diverged.text}; losses ${state.teach!.losses.map((l) => l.toFixed(3)).join(' ')}`,
        );
        assert.equal(state.teach!.status, 'error');
        assert.equal(state.teach!.result!.status, 'diverged');
        assert.match(
          diverged.text,
          /^Could not teach: teaching diverged \(.+\): rolled back, the model is unchanged; lower the learning rate \(0\.1\)\.$/,
        );
        assert.equal(diverged.error, true);
        assert.equal(await other.isDisabled('#download'), true, 'nothing to download');
        // Classify still uses the model as loaded: the same scores as before.
        await other.click('#classify');
        await other.waitForFunction(
          () => (window as unknown as { minnow: PageState }).minnow.status === 'done',
        );
        const again = await pageState(other);
        assert.equal(again.model!.file, 'onnx/model_compact_quantized.onnx');
        assert.deepEqual(
          again.results!.map((r) => r.scores),
          classified.results!.map((r) => r.scores),
        );
      } finally {
        await other.close();
      }
    },
  );

  test(
    'opened from disk (file://), the page says it must be served instead of loading forever',
    { skip },
    async () => {
      const other = await page.context().newPage();
      try {
        await other.goto(`file://${join(site.dir, 'index.html')}`);
        await other.waitForFunction(
          () => (window as unknown as { minnow?: PageState }).minnow?.status === 'error',
        );
        const status = await other.$eval('#status', (e) => ({
          text: e.textContent ?? '',
          color: getComputedStyle(e).color,
        }));
        assert.match(
          status.text,
          /^This page must be served over HTTP, not opened from disk \(file:\/\/\).*static file server/,
        );
        assert.equal(status.color, 'rgb(176, 0, 32)');
        assert.equal(await other.isDisabled('#classify'), true);
      } finally {
        await other.close();
      }
    },
  );

  test('a K-BERT model: the page builds the sentence trees and classifies like Node', { skip }, async (t) => {
    const other = await page.context().newPage();
    try {
      // fp32: the check is of the trees (int8 adds its own web/native rounding differences).
      const { state } = await classifyOnPage(other, `${server.url}?model=./kbert/&quantized=0`);
      const clf = await Classifier.load(folderReader(kbert), {
        ort: ortNode as unknown as OrtModule,
        variant: 'compact',
      });
      const node = await clf.classify(TEXTS);
      await clf.release();
      let maxDiff = 0;
      state.results!.forEach((r, i) => {
        assert.equal(r.label, node[i].label, `line ${i + 1}`);
        for (const [k, x] of r.scores.entries()) maxDiff = Math.max(maxDiff, Math.abs(x - node[i].scores[k]));
      });
      const kg = state.downloads!.find((d) => d.path === 'kbert/knowledge.kg');
      t.diagnostic(
        `K-BERT page vs onnxruntime-node: max |score diff| ${maxDiff.toExponential(2)}; knowledge.kg ${kg?.bytes} bytes`,
      );
      assert.ok(kg, 'the page fetched knowledge.kg');
      assert.ok(maxDiff <= SCORE_TOL, `scores differ by ${maxDiff}`);
    } finally {
      await other.close();
    }
  });

  test(
    'an n-gram baseline: the page classifies like Node, and says the panel cannot teach it',
    { skip },
    async () => {
      const other = await page.context().newPage();
      try {
        const { loaded, state } = await classifyOnPage(other, `${server.url}?model=./ngram/`);
        assert.equal(loaded.model?.file, 'onnx/model_quantized.onnx');
        const clf = await Classifier.load(folderReader(ngramExport), {
          ort: ortNode as unknown as OrtModule,
          quantized: true,
        });
        const node = await clf.classify(TEXTS);
        await clf.release();
        state.results!.forEach((r, i) => {
          assert.equal(r.label, node[i].label, `line ${i + 1}`);
          for (const [k, x] of r.scores.entries())
            assert.ok(Math.abs(x - node[i].scores[k]) <= SCORE_TOL, `line ${i + 1}`);
        });
        assert.equal(await other.isDisabled('#teach'), true);
        assert.match(
          (await other.textContent('#teach-status')) ?? '',
          /an n-gram baseline: teaching here fine-tunes transformers only/,
        );
      } finally {
        await other.close();
      }
    },
  );

  test('a missing model folder is reported on the page', { skip }, async () => {
    const other = await page.context().newPage();
    try {
      await other.goto(`${server.url}?model=./nowhere/`);
      await other.waitForFunction(
        () => (window as unknown as { minnow: PageState }).minnow.status === 'error',
      );
      const shown = await other.textContent('#status');
      assert.match(
        shown ?? '',
        /could not load the model from http:\/\/127\.0\.0\.1:\d+\/nowhere\/: .*config\.json: not found/,
      );
      assert.equal(await other.isDisabled('#classify'), true);
    } finally {
      await other.close();
    }
  });
});

test('page.js (page.ts bundled for the browser) has no Node built-in and no Node global', async () => {
  const bundle = await runtimeBundle(PAGE_ENTRY);
  assert.deepEqual(
    bundle.builtins.map((x) => [...x.chain, x.module].join(' -> ')),
    [],
  );
  assert.deepEqual(bundle.nodeGlobals, []);
  assert.deepEqual(bundle.external, ['onnxruntime-web/wasm']);
});

test('teach.js (the teach panel, built for the browser) imports no Node built-in', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'minnow-teach-js-'));
  try {
    await buildPage(tmp);
    const code = readFileSync(join(tmp, 'teach.js'), 'utf8');
    // esbuild maps protobufjs's optional require("fs") away (its package.json "browser" field).
    assert.doesNotMatch(code, /\bfrom\s*["'](node:|fs|path|crypto|os)\b|\brequire\(["']|\bimport\(["']node:/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
