/**
 * Test and script support (not built into dist/): drive the page in a browser (playwright-core) and run
 * its teach round again in Node. Used by page.test.ts and scripts/teach-chromium.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { modelFromFiles } from '../model/model.js';
import type { OrtBackend } from '../runtime/session.js';
import { type TeachResult, teach } from '../train/teach.js';
import type { PageState } from './page.js';
import type { TeachState } from './teach-panel.js';

/** The page's state (`window.minnow`). */
export const pageState = (page: Page): Promise<PageState> =>
  page.evaluate(() => (window as unknown as { minnow: PageState }).minnow);

/** Waits until the page's status is one of `states`. */
export async function pageSettled(page: Page, states: string[], timeout?: number): Promise<void> {
  await page.waitForFunction(
    (s) => s.includes((window as unknown as { minnow?: PageState }).minnow?.status ?? ''),
    states,
    { timeout },
  );
}

/** Waits until the teach panel's round is done or failed. */
export async function teachSettled(page: Page, timeout = 120_000): Promise<void> {
  await page.waitForFunction(
    () => {
      const s = (window as unknown as { minnow: PageState }).minnow.teach?.status;
      return s === 'done' || s === 'error';
    },
    undefined,
    { timeout },
  );
}

/** The files of an exported folder that the teach panel reads (config.json, model.safetensors, vocab.txt). */
export function teachFiles(exported: string) {
  return {
    'config.json': readFileSync(join(exported, 'config.json'), 'utf8'),
    'model.safetensors': new Uint8Array(readFileSync(join(exported, 'model.safetensors'))),
    'vocab.txt': readFileSync(join(exported, 'vocab.txt'), 'utf8'),
  };
}

/**
 * The page's last teach round run again in Node from the same exported files: its examples, config and
 * anchors, one thread; `backend` defaults to onnxruntime-node. The taught model comes back with the result.
 */
export async function teachLikePage(exported: string, taught: TeachState, backend?: OrtBackend) {
  const files = teachFiles(exported);
  const numLabels = (JSON.parse(files['config.json']) as { num_labels?: number }).num_labels ?? 2;
  const model = modelFromFiles(files, exported, { numLabels });
  const result: TeachResult = await teach(model, taught.examples!, taught.config!, {
    backend,
    threads: 1,
    anchors: taught.anchors,
  });
  return { model, result };
}

/**
 * `minnow teach` arguments that repeat the page's last round from files, on onnxruntime-web (`--backend
 * web`): the exported folder, its examples (class names from `names`) and anchors written into `dir`, the
 * panel's settings as flags, the taught model to `out`, a JSON report.
 */
export function teachWebArgs(
  exported: string,
  taught: TeachState,
  names: readonly string[],
  dir: string,
  out: string,
): string[] {
  const examples = join(dir, 'teach-examples.txt');
  const anchors = join(dir, 'teach-anchors.txt');
  writeFileSync(examples, `${taught.examples!.map((e) => `${names[e.label]} | ${e.text}`).join('\n')}\n`);
  writeFileSync(anchors, `${(taught.anchors ?? []).join('\n')}\n`);
  const c = taught.config!;
  const flags = {
    steps: c.steps,
    lr: c.lr,
    part: c.part,
    margin: c.margin,
    'anchor-weight': c.anchorWeight,
    pull: c.pull,
    seed: c.seed,
  };
  return [
    'teach',
    ...['--model', exported, '--examples', examples, '--anchors', anchors, '--out', out],
    ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)]),
    ...['--backend', 'web', '--json'],
  ];
}
