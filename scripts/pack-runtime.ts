/**
 * The runtime as a package of its own (`minnow-runtime`): one ESM bundle of src/infer/runtime.ts and what
 * it imports (no Node built-in, no dependency), its type declarations, LICENSE and a README; onnxruntime
 * is the caller's choice (an optional peer: onnxruntime-node in Node, onnxruntime-web in a page).
 *
 *   npx tsx scripts/pack-runtime.ts [--out DIR]     (default runs/runtime-package)
 *
 * Writes DIR/package/ (the package folder) and DIR/minnow-runtime-VERSION.tgz (npm pack), and prints
 * their bytes. scripts/pack-runtime.test.ts installs the tarball in an empty project and classifies.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { RUNTIME_ENTRY } from './runtime-size.js';

const ROOT = resolve(import.meta.dirname, '..');

/** Bytes of every file under `dir`. */
export function folderBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? folderBytes(p) : statSync(p).size;
  }
  return n;
}

export interface PackedRuntime {
  folder: string;
  tarball: string;
  folderBytes: number;
  tarballBytes: number;
}

export async function packRuntime(out: string): Promise<PackedRuntime> {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
    license: string;
  };
  const folder = join(out, 'package');
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(join(folder, 'dist'), { recursive: true });
  await build({
    entryPoints: [RUNTIME_ENTRY],
    outfile: join(folder, 'dist', 'runtime.js'),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    external: ['onnxruntime-*'],
    legalComments: 'none',
    banner: { js: `/* minnow-runtime ${root.version}, ${root.license}: see LICENSE */` },
    logLevel: 'silent',
  });
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      ...['--declaration', '--emitDeclarationOnly', '--skipLibCheck', '--strict'],
      ...['--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--types', 'node'],
      ...['--rootDir', join(ROOT, 'src'), '--outDir', join(folder, 'dist', 'types'), RUNTIME_ENTRY],
    ],
    { stdio: 'inherit' },
  );
  const pkg = {
    name: 'minnow-runtime',
    version: root.version,
    description: 'Run minnow exports (tiny BERT-class classifiers, ONNX) in Node and in the browser',
    type: 'module',
    license: root.license,
    exports: { '.': { types: './dist/types/infer/runtime.d.ts', default: './dist/runtime.js' } },
    files: ['dist', 'LICENSE', 'README.md'],
    sideEffects: false,
    engines: { node: '>=18' },
    peerDependencies: { 'onnxruntime-node': '>=1.17.0', 'onnxruntime-web': '>=1.17.0' },
    peerDependenciesMeta: { 'onnxruntime-node': { optional: true }, 'onnxruntime-web': { optional: true } },
  };
  writeFileSync(join(folder, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  cpSync(join(ROOT, 'LICENSE'), join(folder, 'LICENSE'));
  cpSync(join(ROOT, 'packages', 'runtime', 'README.md'), join(folder, 'README.md'));
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', resolve(out)], {
    cwd: folder,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop()!;
  const tarball = join(resolve(out), name);
  return { folder, tarball, folderBytes: folderBytes(folder), tarballBytes: statSync(tarball).size };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'runs/runtime-package' } } });
  const r = await packRuntime(values.out!);
  console.log(`${r.folder}: ${(r.folderBytes / 1000).toFixed(1)} kB`);
  console.log(`${r.tarball}: ${(r.tarballBytes / 1000).toFixed(1)} kB`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
