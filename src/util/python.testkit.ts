/**
 * The Python that tests check minnow against (transformers, torch): $MINNOW_PYTHON, else python3. Tests
 * that need it skip with one message when it cannot import torch and transformers.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './assets.js';

let probed: { python: string } | { skip: string } | undefined;

/** `{ python }` when it imports torch and transformers, else `{ skip }` with the reason. */
export function torchPython(): { python: string } | { skip: string } {
  if (probed) return probed;
  const python = process.env.MINNOW_PYTHON ?? 'python3';
  const r = spawnSync(python, ['-c', 'import torch, transformers'], { encoding: 'utf8' });
  probed =
    r.status === 0
      ? { python }
      : { skip: `${python} cannot import torch and transformers (set MINNOW_PYTHON to a Python that can)` };
  return probed;
}

/**
 * Run python/SCRIPT with args on that Python, offline, with transformers' module cache in `home` (remote
 * code is copied there); stdout, or an Error with stderr's tail.
 */
export function runPython(python: string, script: string, args: string[], home: string): string {
  const r = spawnSync(python, [join(PACKAGE_ROOT, 'python', script), ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: {
      ...process.env,
      HF_HOME: home,
      HF_HUB_OFFLINE: '1',
      TRANSFORMERS_VERBOSITY: 'error',
      TOKENIZERS_PARALLELISM: 'false',
      OMP_NUM_THREADS: '1',
    },
  });
  if (r.status !== 0)
    throw new Error(`python/${script} ${args.join(' ')} failed (${r.status}):\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}
