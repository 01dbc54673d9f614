/** What the PyTorch peers (mlm-peer.ts, electra-peer.ts) share: the Python check, and minnow's token caches. */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Exit 0 with a one-line reason when `python` cannot import torch and transformers (the peer is optional). */
export function requireTorch(python: string, bench: string): void {
  const probe = spawnSync(python, ['-c', 'import torch, transformers'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    process.stdout.write(
      `${bench}: skipped: ${python} cannot import torch and transformers (set --python or MINNOW_PYTHON)\n`,
    );
    process.exit(0);
  }
}

/** minnow's token cache of a text file, in `cacheDir` (written by a `minnow pretrain` run on it). */
export function cacheOf(text: string, cacheDir: string): string {
  const name = basename(text);
  const hit = readdirSync(cacheDir).find((f) => f.startsWith(`${name}.`) && f.endsWith('.tokens'));
  if (!hit) throw new Error(`no token cache of ${name} in ${cacheDir}`);
  return join(cacheDir, hit);
}
