/**
 * Where an exported folder's files come from, for the runtime in Node and in browsers alike:
 *
 *   a reader function             (name) => bytes, or undefined for a file that is not there
 *   'https://host/models/sst2/'   fetched (also a relative URL in a page: './sst2/')
 *   '/srv/models/sst2', './sst2'  in Node: a local folder, read with node:fs
 *   'file:///srv/models/sst2/'    in Node: the same folder; in a page: an error that says how to serve it
 *
 * node:fs is imported on first use and by a computed name, so a browser bundle of the runtime holds no
 * Node built-in (scripts/runtime-size.ts checks that).
 */
import { fsReason, UserError } from '../util/errors.js';

/** A base URL or local folder path (see the file comment), or a reader (undefined = no such file). */
export type FileSource = string | ((name: string) => Promise<Uint8Array | undefined>);
export type FileReader = (name: string) => Promise<Uint8Array | undefined>;

/** Whether this is Node.js (a property read: the bundle names no Node global). */
export function inNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof p?.versions?.node === 'string';
}

const slash = (s: string) => (s.endsWith('/') ? s : `${s}/`);

/** A reader for a local folder in Node. */
export function localFolder(dir: string): FileReader {
  return async (name) => {
    // Joined at run time: a string constant would be folded into the import by esbuild's minifier.
    const spec = ['node:fs', 'promises'].join('/');
    const fs = (await import(/* @vite-ignore */ spec)) as typeof import('node:fs/promises');
    const file = `${slash(dir)}${name}`;
    try {
      return new Uint8Array(await fs.readFile(file));
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOENT') return undefined;
      throw new UserError(`${file}: cannot read (${fsReason(code ?? (e as Error).message)})`);
    }
  };
}

/** A reader that fetches NAME under a base URL (404 = no such file). */
export function urlFolder(base: string): FileReader {
  return async (name) => {
    const url = `${slash(base)}${name}`;
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new UserError(`${url}: cannot fetch (${(e as Error).message})`);
    }
    if (res.status === 404) return undefined;
    if (!res.ok) throw new UserError(`${url}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };
}

/** The reader for a FileSource, in this environment (`node`: whether to read local folders). */
export function fileReader(source: FileSource, node = inNode()): FileReader {
  if (typeof source !== 'string') return source;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(source)?.[1]?.toLowerCase();
  if (scheme === 'file') {
    if (!node)
      throw new UserError(
        `${source}: a page cannot fetch file:// URLs; serve the folder over http (minnow serve --model DIR, ` +
          'or any static file server such as npx http-server DIR) and load its http:// URL',
      );
    return localFolder(decodeURIComponent(new URL(source).pathname));
  }
  // In Node a string with no scheme (or a one-letter one: C:\models) is a folder on disk; in a page
  // it is a URL relative to the page.
  if (node && (!scheme || scheme.length === 1)) return localFolder(source);
  return urlFolder(source);
}
