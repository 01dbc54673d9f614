/**
 * What the PyTorch peers (mlm-peer.ts, electra-peer.ts) share: the Python check, the model shape both sides
 * build, the two child processes, and minnow's token caches.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { type BertConfig, PRESETS } from '../src/model/config.js';
import { embeddingKind } from '../src/model/embeddings/registry.js';
import { TABLE } from '../src/model/embeddings/table.js';

/** A table preset the peer can build (exit 2 with a one-line reason otherwise). */
export function tablePreset(name: string, bench: string): BertConfig {
  const preset = PRESETS[name];
  if (!preset || embeddingKind(preset) !== TABLE) {
    process.stderr.write(
      `${bench}: --preset must be a table model the peer can build (bert-tiny, bert-mini, bert-small)\n`,
    );
    process.exit(2);
  }
  return preset;
}

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

/** `minnow pretrain ARGS --json` from this checkout's build; its stdout (the JSON result). */
export function minnowPretrain(args: string[]): string {
  const m = spawnSync(process.execPath, ['dist/cli/main.js', 'pretrain', ...args, '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (m.status !== 0) throw new Error('minnow pretrain failed');
  return m.stdout;
}

/** bench/SCRIPT on `python` with the preset's shape after ARGS; its stdout lines. */
export function runPeer(python: string, script: string, args: string[], preset: BertConfig): string[] {
  const shape = [
    '--layers',
    String(preset.num_hidden_layers),
    '--hidden',
    String(preset.hidden_size),
    '--heads',
    String(preset.num_attention_heads),
    '--ffn',
    String(preset.intermediate_size),
  ];
  const py = spawnSync(python, [resolve('bench', script), ...args, ...shape], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (py.status !== 0) throw new Error(`the PyTorch peer (${script}) failed`);
  return py.stdout.trim().split('\n');
}

/** minnow's token cache of a text file, in `cacheDir` (written by a `minnow pretrain` run on it). */
export function cacheOf(text: string, cacheDir: string): string {
  const name = basename(text);
  const hit = readdirSync(cacheDir).find((f) => f.startsWith(`${name}.`) && f.endsWith('.tokens'));
  if (!hit) throw new Error(`no token cache of ${name} in ${cacheDir}`);
  return join(cacheDir, hit);
}
