/**
 * A screenshot of the classification page (src/web) running a model: builds the page with an exported
 * model folder (`minnow export --out DIR`) in a temporary folder, serves it on 127.0.0.1, opens it in
 * headless Chromium (playwright-core), classifies a few sentences, teaches the model the panel's example
 * sentences for at most --teach steps (default 10; 0 skips), classifies again with the personalised model and saves
 * a PNG of the whole page.
 *
 *   npx tsx scripts/page-screenshot.ts EXPORT_DIR [OUT.png] [--text LINE]... [--width PX] [--portable] [--fp32] [--teach N]
 *
 * OUT.png defaults to results/browser-page.png. Prints the load time, the results and what the page
 * downloaded. Needs Chromium (/usr/bin/chromium or `chromium` on PATH); nothing is fetched from elsewhere
 * (a request to another host is an error).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { buildPage, CHROMIUM_ARGS, findChromium, serveFolder } from '../src/web/build.js';
import type { DownloadPart, PageState } from '../src/web/page.js';

const SENTENCES = [
  'a warm , charming delight from start to finish',
  'a dull , lifeless mess that overstays its welcome',
  'the acting is superb and the story is clever',
  'boring , predictable and far too long',
  'not a great film , but a pleasant surprise',
];

const USAGE =
  'usage: npx tsx scripts/page-screenshot.ts EXPORT_DIR [OUT.png] [--text LINE]... [--width PX] [--portable] [--fp32] [--teach N]\n';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      text: { type: 'string', multiple: true },
      width: { type: 'string', default: '960' },
      portable: { type: 'boolean', default: false },
      fp32: { type: 'boolean', default: false },
      teach: { type: 'string', default: '10' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
  if (values.help || positionals.length < 1 || positionals.length > 2) {
    process.stderr.write(USAGE);
    return values.help ? 0 : 2;
  }
  const model = resolve(positionals[0]);
  const out = resolve(positionals[1] ?? join('results', 'browser-page.png'));
  const executablePath = findChromium();
  if (!executablePath) {
    process.stderr.write('page-screenshot: no Chromium (neither /usr/bin/chromium nor chromium on PATH)\n');
    return 1;
  }
  const texts = values.text?.length ? values.text : SENTENCES;
  const query = new URLSearchParams();
  if (values.portable) query.set('variant', 'portable');
  if (values.fp32) query.set('quantized', '0');

  const tmp = mkdtempSync(join(tmpdir(), 'minnow-page-shot-'));
  const site = await buildPage(join(tmp, 'site'), { model });
  const server = await serveFolder(site.dir);
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: Number(values.width), height: 700 } });
    const foreign: string[] = [];
    page.context().on('request', (r) => {
      if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) foreign.push(r.url());
    });
    const state = () => page.evaluate(() => (window as unknown as { minnow: PageState }).minnow);
    const settled = (want: string[]) =>
      page.waitForFunction(
        (w) => w.includes((window as unknown as { minnow?: PageState }).minnow?.status ?? ''),
        [...want, 'error'],
        { timeout: 60_000 },
      );
    await page.goto(`${server.url}${query.size ? `?${query}` : ''}`);
    await settled(['ready']);
    let s = await state();
    if (s.status === 'error') throw new Error(`the page: ${s.error}`);
    await page.fill('#texts', texts.join('\n'));
    await page.click('#classify');
    await settled(['done']);
    s = await state();
    if (s.status === 'error') throw new Error(`the page: ${s.error}`);
    const before = s.results!;
    const loaded = { ...s.model!, readyMs: s.readyMs!, loadMs: s.loadMs!, classifyMs: s.classifyMs! };
    const steps = Number(values.teach);
    if (steps > 0) {
      await page.fill('#steps', String(steps));
      await page.click('#teach');
      await page.waitForFunction(
        () =>
          ['done', 'error'].includes((window as unknown as { minnow: PageState }).minnow.teach?.status ?? ''),
        undefined,
        { timeout: 300_000 },
      );
      s = await state();
      if (s.teach!.status === 'error') throw new Error(`teaching: ${s.teach!.error}`);
      await page.click('#classify');
      await settled(['done']);
      s = await state();
    }
    if (foreign.length) throw new Error(`requests to other hosts: ${foreign.join(', ')}`);
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true });

    const sum = (parts: DownloadPart[]) =>
      s.downloads!.filter((d) => parts.includes(d.part)).reduce((a, d) => a + d.bytes, 0);
    const lines = [
      `${model}: ${loaded.file} (${loaded.variant}, ${loaded.quantized ? 'int8' : 'fp32'}), ready ${loaded.readyMs.toFixed(0)} ms after navigation (load ${loaded.loadMs.toFixed(0)} ms); ${texts.length} lines in ${loaded.classifyMs.toFixed(1)} ms`,
      ...before.map((r) => `  ${String(r.label).padEnd(10)} ${r.score.toFixed(4)}  ${r.text}`),
      ...(s.teach
        ? [
            `taught ${s.teach.examples!.length} examples, ${s.teach.result!.updates} of at most ${s.teach.config!.steps} steps (${s.teach.config!.part}, lr ${s.teach.config!.lr}) in ${s.teach.trainMs!.toFixed(0)} ms: ${s.teach.result!.message}; losses ${s.teach.losses.map((l) => l.toFixed(4)).join(' ')}`,
            `guard set: ${s.teach.guard!.changed} of ${s.teach.anchors!.length} anchor texts changed label`,
            ...s.teach.examples!.map(
              (e, i) =>
                `  taught ${loaded.labels[e.label] ?? e.label}: before ${s.teach!.before![i].label} ${s.teach!.before![i].score.toFixed(3)}, after ${s.teach!.after![i].label} ${s.teach!.after![i].score.toFixed(3)}  ${e.text}`,
            ),
            'classified again with the personalised model:',
            ...s.results!.map((r) => `  ${String(r.label).padEnd(10)} ${r.score.toFixed(4)}  ${r.text}`),
          ]
        : []),
      'downloads:',
      ...s.downloads!.map((d) => `  ${String(d.bytes).padStart(9)}  ${d.part.padEnd(21)} ${d.path}`),
      `  ${String(sum(['model', 'vocab', 'config', 'page JS'])).padStart(9)}  model + vocab + config + page JS`,
      `  ${String(sum(['onnxruntime-web JS', 'onnxruntime-web wasm'])).padStart(9)}  onnxruntime-web (JS + wasm)`,
      `  ${String(sum(['teach JS', 'trainable weights', 'anchors'])).padStart(9)}  teaching (teach.js + fp32 weights + anchors), fetched on Teach`,
      `screenshot: ${out}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await browser.close();
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

process.exitCode = await main();
