/**
 * Builds the classification page (src/web/index.html + page.ts) into a self-contained folder that any
 * static file server can serve, and a small static server for it (tests, scripts/page-screenshot.ts).
 *
 *   npx tsx src/web/build.ts --out DIR [--model EXPORT_DIR] [--serve [--port N]]
 *
 * The folder holds:
 *   index.html
 *   page.js                        page.ts and minnow's runtime, bundled and minified by esbuild
 *   teach.js                       the "teach it" panel (teach-panel.ts) with minnow's training code,
 *                                  bundled apart: page.js imports it on the first click of Teach
 *   ort.wasm.bundle.min.mjs        onnxruntime-web's WebAssembly-only ESM bundle (its JS glue inside),
 *                                  which page.js imports; copied as published (already minified)
 *   ort-wasm-simd-threaded.wasm    the WebAssembly binary it loads
 *   model/                         with --model: a copy of a `minnow export` folder
 *
 * Nothing on the page comes from elsewhere. The file names of onnxruntime-web's files are kept: the bundle
 * refers to itself and to the .wasm by name.
 */
import { accessSync, constants, cpSync, createReadStream, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { basename, delimiter, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const WEB_DIR = dirname(fileURLToPath(import.meta.url));
export const PAGE_ENTRY = join(WEB_DIR, 'page.ts');
export const TEACH_ENTRY = join(WEB_DIR, 'teach-panel.ts');

/** onnxruntime-web's files the page needs, by their names in the package's dist/ folder. */
export const ORT_JS = 'ort.wasm.bundle.min.mjs';
export const ORT_WASM = 'ort-wasm-simd-threaded.wasm';

/** onnxruntime-web's dist/ folder (the package's CommonJS entry lives there). */
export function ortDist(): string {
  return dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
}

export interface PageBuild {
  dir: string;
  /** Every file in the folder (paths relative to it, '/'-separated) and its bytes. */
  files: { path: string; bytes: number }[];
  /** Bytes of page.js, and of the sources bundled into it (largest first). */
  pageJs: { bytes: number; inputs: { path: string; bytes: number }[] };
  /** Bytes of teach.js (the teach panel and minnow's training code; fetched on the first Teach). */
  teachJs: { bytes: number };
}

/**
 * Writes the page into `out` (created; files of the same names are replaced). `model`: an exported
 * folder to copy to out/model/ (what the page loads by default).
 */
export async function buildPage(
  out: string,
  o: { model?: string; minify?: boolean } = {},
): Promise<PageBuild> {
  const dir = resolve(out);
  mkdirSync(dir, { recursive: true });
  const res = await build({
    entryPoints: { page: PAGE_ENTRY, teach: TEACH_ENTRY },
    outdir: dir,
    bundle: true,
    minify: o.minify ?? true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    metafile: true,
    logLevel: 'silent',
    plugins: [
      {
        // onnxruntime-web stays its own file: page.js imports the copy next to it.
        name: 'onnxruntime-web-next-to-page',
        setup(b) {
          b.onResolve({ filter: /^onnxruntime-web(\/.*)?$/ }, () => ({
            path: `./${ORT_JS}`,
            external: true,
          }));
        },
      },
    ],
  });
  const outputs = Object.entries(res.metafile.outputs);
  const output = outputs.find(([path]) => basename(path) === 'page.js')![1];
  const teach = outputs.find(([path]) => basename(path) === 'teach.js')![1];
  const dist = ortDist();
  for (const f of [ORT_JS, ORT_WASM]) cpSync(join(dist, f), join(dir, f));
  cpSync(join(WEB_DIR, 'index.html'), join(dir, 'index.html'));
  if (o.model) {
    const model = resolve(o.model);
    if (!statSync(join(model, 'config.json'), { throwIfNoEntry: false })?.isFile())
      throw new Error(`${model}: not an exported model folder (no config.json)`);
    cpSync(model, join(dir, 'model'), { recursive: true });
  }
  return {
    dir,
    files: listFiles(dir),
    pageJs: {
      bytes: output.bytes,
      inputs: Object.entries(output.inputs)
        .map(([path, v]) => ({ path, bytes: v.bytesInOutput }))
        .sort((a, b) => b.bytes - a.bytes),
    },
    teachJs: { bytes: teach.bytes },
  };
}

function listFiles(dir: string): { path: string; bytes: number }[] {
  const out: { path: string; bytes: number }[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push({ path: relative(dir, p).split(sep).join('/'), bytes: statSync(p).size });
    }
  };
  walk(dir);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

export const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
};

export interface ServedRequest {
  method: string;
  /** The request's path (URL-decoded, without the query). */
  path: string;
  status: number;
  /** Body bytes sent. */
  bytes: number;
}

export interface StaticServer {
  /** http://127.0.0.1:PORT/ */
  url: string;
  /** Requests answered so far, in order. */
  log: ServedRequest[];
  close(): Promise<void>;
}

/**
 * Serves `dir` read-only on 127.0.0.1 (port 0: an ephemeral one); `/` and folders serve their index.html.
 * No compression and `Cache-Control: no-store`, so a file's bytes on the wire are its size.
 */
export async function serveFolder(dir: string, port = 0): Promise<StaticServer> {
  const root = resolve(dir);
  const log: ServedRequest[] = [];
  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    let path = '/';
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      path = '';
    }
    const answer = (status: number, body: string) => {
      log.push({ method, path, status, bytes: Buffer.byteLength(body) });
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
    };
    if (method !== 'GET' && method !== 'HEAD') return answer(405, 'method not allowed\n');
    let file = resolve(root, `.${path}`);
    if (!path || (file !== root && !file.startsWith(root + sep))) return answer(403, 'forbidden\n');
    let st = statSync(file, { throwIfNoEntry: false });
    if (st?.isDirectory()) {
      file = join(file, 'index.html');
      st = statSync(file, { throwIfNoEntry: false });
    }
    if (!st?.isFile()) return answer(404, 'not found\n');
    res.writeHead(200, {
      'Content-Type': MIME_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': st.size,
      'Cache-Control': 'no-store',
    });
    log.push({ method, path, status: 200, bytes: method === 'HEAD' ? 0 : st.size });
    if (method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/`,
    log,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.closeAllConnections();
        server.close((e) => (e ? fail(e) : ok()));
      }),
  };
}

/** Chromium's executable: /usr/bin/chromium, else `chromium` on PATH; undefined when neither. */
export function findChromium(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const c of ['/usr/bin/chromium', ...onPath.map((d) => join(d, 'chromium'))]) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Flags for a headless Chromium that makes no request of its own (with playwright-core's launch). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      model: { type: 'string' },
      serve: { type: 'boolean', default: false },
      port: { type: 'string', default: '8080' },
    },
  });
  if (!values.out) {
    process.stderr.write(
      'usage: npx tsx src/web/build.ts --out DIR [--model EXPORT_DIR] [--serve [--port N]]\n',
    );
    process.exitCode = 2;
    return;
  }
  const b = await buildPage(values.out, { model: values.model });
  process.stdout.write(
    `built the page in ${b.dir} (page.js ${b.pageJs.bytes} bytes):\n` +
      b.files.map((f) => `  ${String(f.bytes).padStart(9)}  ${f.path}`).join('\n') +
      '\n',
  );
  if (values.serve) {
    const s = await serveFolder(b.dir, Number(values.port));
    process.stdout.write(`serving ${b.dir} at ${s.url} (Ctrl-C stops)\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
