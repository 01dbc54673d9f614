/**
 * The size of the deployable runtime (src/infer/runtime.ts, `minnow/runtime`) as a browser bundle, and the
 * check that it pulls in no Node built-in: esbuild bundles it minified for the browser with onnxruntime
 * left out (the page brings its own), and every import of a Node built-in (node:*, fs, path, ...) is
 * reported with the chain of imports that reaches it.
 *
 *   npx tsx scripts/runtime-size.ts [--json] [ENTRY.ts]
 *
 * Prints the bundle's bytes and gzip bytes; exits 1 naming each import chain if a built-in is reached
 * (or naming the Node globals, such as process or Buffer, that the bundled code uses).
 * The test in src/infer/runtime-web.test.ts calls runtimeBundle() too.
 */
import { builtinModules } from 'node:module';
import { relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';

export const RUNTIME_ENTRY = fileURLToPath(new URL('../src/infer/runtime.ts', import.meta.url));

export interface BuiltinImport {
  /** The built-in as written in the import (e.g. `node:fs`, `path`). */
  module: string;
  /** Files from the entry point to the one importing the built-in, relative to the working directory. */
  chain: string[];
}

export interface RuntimeBundle {
  bytes: number;
  gzipBytes: number;
  /** Source files in the bundle and their bytes in it. */
  inputs: { path: string; bytes: number }[];
  /** Imports left outside the bundle other than built-ins (onnxruntime-*). */
  external: string[];
  builtins: BuiltinImport[];
  /**
   * Node-only globals the minified bundle names outside a property access (process, Buffer, require,
   * __dirname, ...): esbuild leaves free variables unrenamed, so these are uses a browser lacks (or a
   * word in a string, which is worth a look too).
   */
  nodeGlobals: string[];
}

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const isBuiltin = (spec: string) => spec.startsWith('node:') || BUILTINS.has(spec);
const NODE_GLOBALS =
  /(?<![.\w$])(process|Buffer|require|module|exports|__dirname|__filename|global|setImmediate)(?![\w$])/g;

/**
 * Bundles `entry` (default: the runtime) for the browser, minified ESM with onnxruntime-* external.
 * Node built-ins are marked external too, so that a bundle reaching one still builds and the import
 * chain can be read from the metafile instead of esbuild's "could not resolve" error.
 */
export async function runtimeBundle(entry: string = RUNTIME_ENTRY): Promise<RuntimeBundle> {
  const res = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['onnxruntime-*', 'node:*', ...builtinModules],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  // One output file (no outdir, no splitting): the bundle.
  const [code] = res.outputFiles;
  if (!code) throw new Error(`esbuild wrote no output for ${entry}`);
  const meta: Metafile = res.metafile;
  const [output] = Object.values(meta.outputs);
  const external = new Set<string>();
  for (const i of output.imports) if (i.external && !isBuiltin(i.path)) external.add(i.path);
  const nodeGlobals = new Set([...code.text.matchAll(NODE_GLOBALS)].map((m) => m[1]));
  return {
    bytes: code.contents.length,
    gzipBytes: gzipSync(code.contents, { level: 9 }).length,
    inputs: Object.entries(output.inputs)
      .map(([path, v]) => ({ path, bytes: v.bytesInOutput }))
      .sort((a, b) => b.bytes - a.bytes),
    external: [...external].sort(),
    builtins: builtinChains(meta, entry),
    nodeGlobals: [...nodeGlobals].sort(),
  };
}

/** Every built-in import reachable from the entry, with the shortest chain of files that reaches it. */
function builtinChains(meta: Metafile, entry: string): BuiltinImport[] {
  const start = relative(process.cwd(), entry).split('\\').join('/');
  const root = meta.inputs[start] ? start : Object.keys(meta.inputs).find((k) => resolve(k) === entry);
  if (!root) throw new Error(`entry ${entry} is not among esbuild's inputs`);
  const parent = new Map<string, string | null>([[root, null]]);
  const queue = [root];
  const found: BuiltinImport[] = [];
  const chainTo = (file: string) => {
    const chain: string[] = [];
    for (let f: string | null = file; f !== null; f = parent.get(f) ?? null) chain.unshift(f);
    return chain;
  };
  while (queue.length) {
    const file = queue.shift()!;
    for (const imp of meta.inputs[file]?.imports ?? []) {
      if (imp.external) {
        const spec = imp.original ?? imp.path;
        if (isBuiltin(spec) || isBuiltin(imp.path)) found.push({ module: spec, chain: chainTo(file) });
      } else if (!parent.has(imp.path)) {
        parent.set(imp.path, file);
        queue.push(imp.path);
      }
    }
  }
  return found;
}

const kB = (b: number) => `${(b / 1000).toFixed(1)} kB`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  const entry = positionals[0] ? resolve(positionals[0]) : RUNTIME_ENTRY;
  const b = await runtimeBundle(entry);
  if (values.json) process.stdout.write(`${JSON.stringify(b)}\n`);
  else {
    const lines = [
      `${relative(process.cwd(), entry)}: ${b.bytes} bytes (${kB(b.bytes)}), gzip ${b.gzipBytes} bytes (${kB(b.gzipBytes)}); minified ESM for the browser, external: ${b.external.join(', ') || 'none'}`,
      'largest inputs:',
      ...b.inputs.slice(0, 8).map((i) => `  ${String(i.bytes).padStart(7)}  ${i.path}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (b.builtins.length) {
    const lines = b.builtins.map((x) => `  ${[...x.chain, x.module].join(' -> ')}`);
    process.stderr.write(`runtime-size: the bundle imports Node built-ins:\n${lines.join('\n')}\n`);
    process.exitCode = 1;
  }
  if (b.nodeGlobals.length) {
    process.stderr.write(`runtime-size: the bundle names Node globals: ${b.nodeGlobals.join(', ')}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
