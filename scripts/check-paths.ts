/**
 * Fails when a file of the repository names a path that exists on one machine only: a figure's record,
 * a doc's example or a test that reads from such a place works nowhere else.
 *
 *   npx tsx scripts/check-paths.ts               name each such path as FILE:LINE; exit 1 when there is one
 *   npx tsx scripts/check-paths.ts --root DIR    the same for another git checkout
 *
 * The files are those git would commit (tracked, plus untracked files that are not ignored); binary files
 * (a NUL byte in their first 8 kB) are skipped. The rule:
 *
 * - Flagged in every text file, code included: a workspace or home folder, i.e. an absolute path under
 *   `/work`, `/home` (with a user name), `/Users` (with a user name), `/root`, or a Windows `C:\Users`.
 *   No program may read from or write to one of these and still run on a user's clone.
 * - Flagged in docs and records only (.md, .json, .jsonl, .txt, .tsv, .csv, .svg, .html): a temporary
 *   folder, i.e. a path under `/tmp`, `/var/folders` or `/private/var`. Code may use a temporary location
 *   (a CI log, a script's scratch file) because one exists on every machine, though `os.tmpdir()` or
 *   `mktemp` is better; in a doc or a result it says where a file lay on the machine a figure was taken on.
 * - Never flagged: system paths that are the same everywhere (`/dev/zero`, `/proc`, `/usr/bin`, `/etc`),
 *   relative paths (`../shared/data`, `runs/x`), home-relative ones (`~/.cache`), and a path that is part
 *   of a longer one or of a URL (`https://host/work/x`, `$SHARED/work/x`): the path must start the word.
 *
 * Write such a path relative to the repository (`runs/...`, `models/...`), as `../shared/...` for the
 * shared data beside the clone, or with a placeholder (`$SHARED/data`, `OUT_DIR`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** Where a path may not start: after a word character, a dot, a tilde, a dash, `$`, or `x/`. */
const START = String.raw`(?<![\w.~$-])(?<![\w.~$-]/)`;

/** Workspace and home folders: one machine's, in any file. */
const HOME = new RegExp(
  `${START}(?:/(?:work|root)/\\S*|/(?:home|Users)/[\\w.-]+\\S*|[A-Za-z]:\\\\Users\\\\\\S*)`,
  'g',
);

/** Temporary folders: flagged in docs and records only. */
const TEMP = new RegExp(`${START}/(?:tmp|var/folders|private/var)/\\S+`, 'g');

/** Docs and records: where a temporary path can only be a record of one machine. */
const DOC_EXTENSIONS = new Set(['.md', '.json', '.jsonl', '.txt', '.tsv', '.csv', '.svg', '.html']);

export interface Finding {
  file: string;
  line: number;
  path: string;
}

/** The machine paths in one file's text (`file` is its path in the repository: it decides the rule). */
export function machinePaths(file: string, text: string): Finding[] {
  const patterns = DOC_EXTENSIONS.has(extname(file).toLowerCase()) ? [HOME, TEMP] : [HOME];
  const found: Finding[] = [];
  text.split('\n').forEach((lineText, i) => {
    for (const pattern of patterns) {
      for (const m of lineText.matchAll(pattern)) {
        found.push({ file, line: i + 1, path: m[0].replace(/[`'",;:)\]}>.]+$/, '') });
      }
    }
  });
  return found;
}

/** The files git would commit under `root`: tracked and untracked-but-not-ignored, that exist. */
export function repositoryFiles(root: string): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const files = [...new Set(out.split('\0').filter((f) => f !== ''))];
  return files.filter((f) => existsSync(join(root, f)) && statSync(join(root, f)).isFile()).sort();
}

/** Every machine path in the text files of the repository at `root`. */
export function checkTree(root: string): Finding[] {
  const found: Finding[] = [];
  for (const file of repositoryFiles(root)) {
    const bytes = readFileSync(join(root, file));
    if (bytes.subarray(0, 8192).includes(0)) continue;
    found.push(...machinePaths(file, bytes.toString('utf8')));
  }
  return found;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { root: { type: 'string', default: join(import.meta.dirname, '..') } },
  });
  const root = values.root!;
  const found = checkTree(root);
  for (const f of found) console.error(`${f.file}:${f.line}: ${f.path} is one machine's path`);
  if (found.length > 0) {
    console.error(
      `${found.length} machine-specific path(s): write them relative to the repository, as ../shared/..., ` +
        'or with a placeholder (rule: scripts/check-paths.ts)',
    );
    process.exit(1);
  }
  console.log('no machine-specific paths');
}
