/**
 * Training checkpoints, written so that a crash never leaves a damaged one behind:
 * each checkpoint is a complete directory `step-<n>` built under a temporary name, fsynced and then
 * renamed into place; the file `latest` (written atomically) names the newest complete one.
 *
 *   <dir>/step-000120/model.safetensors      parameters (Hugging Face names)
 *                     optimizer.safetensors  AdamW moments m.<name>, v.<name>
 *                     trainer_state.json     step, seeds, data position, anything the loop needs
 *   <dir>/latest                             "step-000120"
 *
 * A process killed mid-save leaves `.step-<n>.tmp-<pid>/` or `latest.<pid>.<hex>.tmp` behind;
 * cleanCheckpointDir, called when a run opens the directory, removes those of dead processes.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import type { AdamW } from '../runtime/optim.js';
import type { ParamStore } from '../runtime/params.js';
import type { SafeTensor } from '../runtime/safetensors.js';
import { readSafetensors, writeSafetensors } from '../runtime/safetensors-file.js';
import {
  atomicTempOwner,
  type Cleanup,
  ensureDir,
  removeStaleTemporaries,
  writeFileAtomic,
} from '../util/atomic.js';
import { UserError } from '../util/errors.js';

export interface TrainerState {
  step: number;
  [key: string]: unknown;
}

const stepName = (step: number) => `step-${String(step).padStart(6, '0')}`;
const stepTemp = (name: string, pid: number) => `.${name}.tmp-${pid}`;
const STEP_TEMP = /^\.step-\d+\.tmp-(\d{1,10})$/;

/**
 * Remove the temporaries that killed saves left in checkpoint directory `dir`: half-built
 * `.step-<n>.tmp-<pid>/` directories and atomic-write temps (`latest.<pid>.<hex>.tmp`) whose process
 * is no longer running. Complete checkpoints, `latest` and the temporaries of live processes stay.
 */
export function cleanCheckpointDir(dir: string): Cleanup {
  return removeStaleTemporaries(dir, (name) => {
    const m = STEP_TEMP.exec(name);
    return m ? Number(m[1]) : atomicTempOwner(name);
  });
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Directory fsync is unsupported on some platforms; the rename is still atomic.
  }
}

/** Write a checkpoint and point `latest` at it; keeps the newest `keep` checkpoints. */
export function saveCheckpoint(
  dir: string,
  params: ParamStore,
  optim: AdamW,
  state: TrainerState,
  keep = 2,
): string {
  ensureDir(dir);
  const name = stepName(state.step);
  const tmp = join(dir, stepTemp(name, process.pid));
  rmSync(tmp, { recursive: true, force: true });
  try {
    ensureDir(tmp);
    writeSafetensors(join(tmp, 'model.safetensors'), params.toTensors(), { format: 'pt' });
    const moments = new Map<string, SafeTensor>();
    for (const p of optim.params) {
      moments.set(`m.${p.name}`, { dtype: 'F32', shape: p.shape, data: optim.m.get(p.name)! });
      moments.set(`v.${p.name}`, { dtype: 'F32', shape: p.shape, data: optim.v.get(p.name)! });
    }
    writeSafetensors(join(tmp, 'optimizer.safetensors'), moments, { adam_step: String(optim.step) });
    writeFileAtomic(join(tmp, 'trainer_state.json'), `${JSON.stringify(state, null, 2)}\n`);
    fsyncDir(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true }); // a full disk leaves no half-written checkpoint behind
    throw e;
  }
  const final = join(dir, name);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  fsyncDir(dir);
  writeFileAtomic(join(dir, 'latest'), `${name}\n`);
  const old = readdirSync(dir)
    .filter((f) => /^step-\d+$/.test(f) && f !== name)
    .sort();
  for (const f of old.slice(0, Math.max(0, old.length - (keep - 1))))
    rmSync(join(dir, f), { recursive: true, force: true });
  return final;
}

/** The directory of the newest complete checkpoint, or undefined if there is none. */
export function latestCheckpoint(dir: string): string | undefined {
  const pointer = join(dir, 'latest');
  if (!existsSync(pointer)) return undefined;
  const name = readFileSync(pointer, 'utf8').trim();
  const path = join(dir, name);
  if (!/^step-\d+$/.test(name) || !existsSync(join(path, 'trainer_state.json'))) {
    throw new UserError(`${pointer}: points to "${name}", which is not a complete checkpoint`);
  }
  return path;
}

/** Restore parameters and optimizer state in place; returns the trainer state. */
export function loadCheckpoint(path: string, params: ParamStore, optim: AdamW): TrainerState {
  const weights = join(path, 'model.safetensors');
  params.load(readSafetensors(weights), weights);
  const file = join(path, 'optimizer.safetensors');
  const opt = readSafetensors(file);
  for (const p of optim.params) {
    for (const k of ['m', 'v'] as const) {
      const t = opt.tensors.get(`${k}.${p.name}`);
      if (!t || t.shape.join() !== p.shape.join())
        throw new UserError(`${file}: missing or mis-shaped "${k}.${p.name}"`);
      (k === 'm' ? optim.m : optim.v).get(p.name)!.set(t.data as Float32Array);
    }
  }
  const step = Number(opt.metadata.adam_step);
  if (!Number.isInteger(step)) throw new UserError(`${file}: metadata "adam_step" missing or not an integer`);
  optim.step = step;
  const stateFile = join(path, 'trainer_state.json');
  try {
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as TrainerState;
    if (!Number.isInteger(state.step)) throw new Error('field "step" is not an integer');
    return state;
  } catch (e) {
    throw new UserError(`${stateFile}: ${(e as Error).message}`);
  }
}
