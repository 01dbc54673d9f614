/**
 * A screenshot of the classification page (src/web) running a model: builds the page with an exported
 * model folder (`minnow export --out DIR`) in a temporary folder, serves it on 127.0.0.1, opens it in
 * headless Chromium (playwright-core), classifies a few sentences and saves a PNG of the whole page.
 *
 *   npx tsx scripts/page-screenshot.ts EXPORT_DIR [OUT.png] [--text LINE]... [--width PX] [--portable] [--fp32]
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
  'usage: npx tsx scripts/page-screenshot.ts EXPORT_DIR [OUT.png] [--text LINE]... [--width PX] [--portable] [--fp32]\n';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      text: { type: 'string', multiple: true },
      width: { type: 'string', default: '960' },
      portable: { type: 'boolean', default: false },
      fp32: { type: 'boolean', default: false },
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
    if (foreign.length) throw new Error(`requests to other hosts: ${foreign.join(', ')}`);
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true });

    const m = s.model!;
    const sum = (parts: DownloadPart[]) =>
      s.downloads!.filter((d) => parts.includes(d.part)).reduce((a, d) => a + d.bytes, 0);
    const lines = [
      `${model}: ${m.file} (${m.variant}, ${m.quantized ? 'int8' : 'fp32'}), ready ${s.readyMs!.toFixed(0)} ms after navigation (load ${s.loadMs!.toFixed(0)} ms); ${texts.length} lines in ${s.classifyMs!.toFixed(1)} ms`,
      ...s.results!.map((r) => `  ${String(r.label).padEnd(10)} ${r.score.toFixed(4)}  ${r.text}`),
      'downloads:',
      ...s.downloads!.map((d) => `  ${String(d.bytes).padStart(9)}  ${d.part.padEnd(21)} ${d.path}`),
      `  ${String(sum(['model', 'vocab', 'config', 'page JS'])).padStart(9)}  model + vocab + config + page JS`,
      `  ${String(sum(['onnxruntime-web JS', 'onnxruntime-web wasm'])).padStart(9)}  onnxruntime-web (JS + wasm)`,
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
