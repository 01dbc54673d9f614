/**
 * Checkpoint directories left by killed runs: the temporaries of dead processes (half-written
 * `.step-N.tmp-PID/` directories, `latest.PID.xxxx.tmp` files) are removed when a run opens the directory;
 * complete checkpoints and the temporaries of live processes are kept, and a run still resumes from it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { softmaxCrossEntropy } from '../graph/losses.js';
import { bertInputs, classifier, encoder } from '../model/bert.js';
import { type BertConfig, PRESETS } from '../model/config.js';
import { DEFAULT_ADAMW } from '../runtime/optim.js';
import { ParamStore } from '../runtime/params.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { cleanCheckpointDir } from './checkpoint.js';
import { runTraining } from './loop.js';
import { TrainStep } from './step.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-ckpt-clean-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The PID of a process that has exited (spawned, waited for and reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  assert.ok(r.pid && r.pid > 0);
  return r.pid;
}

function fakeTempDir(dir: string, name: string, bytes: number): void {
  mkdirSync(join(dir, name));
  writeFileSync(join(dir, name, 'model.safetensors'), new Uint8Array(bytes));
}

describe('cleanCheckpointDir', () => {
  test('removes the temporaries of dead processes only; says how many and how many bytes', () => {
    const dir = join(tmp, 'unit');
    mkdirSync(dir);
    const dead = deadPid();
    const dead2 = deadPid();
    // Complete checkpoint and its pointer: kept.
    fakeTempDir(dir, 'step-000008', 300);
    writeFileSync(join(dir, 'step-000008', 'trainer_state.json'), '{"step": 8}\n');
    writeFileSync(join(dir, 'latest'), 'step-000008\n');
    // Stale: a half-written checkpoint directory and writeFileAtomic temps of dead processes.
    fakeTempDir(dir, `.step-000010.tmp-${dead}`, 1000);
    fakeTempDir(dir, `.step-000012.tmp-${dead2}`, 500);
    writeFileSync(join(dir, `latest.${dead}.0123456789ab.tmp`), 'step-0000');
    writeFileSync(join(dir, `optimizer.safetensors.${dead2}.fedcba987654.tmp`), new Uint8Array(70));
    // Live: this process's temps, and PID 1's (kill(1, 0) is EPERM for non-root: alive).
    fakeTempDir(dir, `.step-000014.tmp-${process.pid}`, 10);
    writeFileSync(join(dir, `latest.${process.pid}.00000000abcd.tmp`), 'x');
    fakeTempDir(dir, '.step-000016.tmp-1', 10);
    // Not ours to judge (no PID): kept.
    writeFileSync(join(dir, 'notes.tmp'), 'mine');

    const r = cleanCheckpointDir(dir);
    assert.equal(r.removed.length, 4);
    assert.equal(r.bytes, 1000 + 500 + 9 + 70);
    assert.deepEqual(readdirSync(dir).sort(), [
      '.step-000014.tmp-' + process.pid,
      '.step-000016.tmp-1',
      `latest`,
      `latest.${process.pid}.00000000abcd.tmp`,
      'notes.tmp',
      'step-000008',
    ]);
    assert.deepEqual(readdirSync(join(dir, 'step-000008')).sort(), [
      'model.safetensors',
      'trainer_state.json',
    ]);
    // Idempotent, and a missing directory is simply empty.
    assert.deepEqual(cleanCheckpointDir(dir), { removed: [], bytes: 0 });
    assert.deepEqual(cleanCheckpointDir(join(tmp, 'no-such-dir')), { removed: [], bytes: 0 });
  });
});

const cfg: BertConfig = {
  ...PRESETS['bert-tiny'],
  vocab_size: 16,
  hidden_size: 16,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  intermediate_size: 32,
  max_position_embeddings: 8,
};
const T = 8;

/** Micro-batch `micro`: a pure function of its index (label 1 iff token 3 occurs). */
function toyBatch(micro: number) {
  const rng = new Rng(1000 + micro);
  const B = 8;
  const ids = new BigInt64Array(B * T);
  const labels = new BigInt64Array(B);
  for (let b = 0; b < B; b++) {
    const positive = rng.uniform() < 0.5;
    for (let t = 0; t < T; t++) ids[b * T + t] = BigInt(t === 0 ? 1 : 4 + rng.int(12));
    if (positive) ids[b * T + 1 + rng.int(T - 1)] = 3n;
    labels[b] = positive ? 1n : 0n;
  }
  return {
    feeds: {
      input_ids: ids,
      token_type_ids: new BigInt64Array(B * T),
      position_ids: BigInt64Array.from({ length: B * T }, (_, i) => BigInt(i % T)),
      attention_mask: new BigInt64Array(B * T).fill(1n),
      labels,
    },
    sizes: { B, T },
    tokens: B * T,
  };
}

/** Train 4 updates into `out` (checkpoints every 2) from a store initialised with `seed`. */
async function train(
  out: string,
  seed: number,
  resume: boolean,
  lr = 3e-3,
  recipe?: Record<string, unknown>,
) {
  const store = new ParamStore();
  const step = await TrainStep.create(
    (g, w, drop) => {
      const labels = g.input('labels', 'int64', ['B']);
      const logits = classifier(w, cfg, encoder(w, cfg, bertInputs(g), drop), 2, drop);
      return { loss: softmaxCrossEntropy(logits, labels), outputs: { logits } };
    },
    store,
    { seed: 5, threads: 1 },
  );
  store.initialize(new Rng(seed));
  try {
    await runTraining({
      label: 'toy',
      out,
      step,
      store,
      optim: { ...DEFAULT_ADAMW, lr },
      schedule: { warmupSteps: 1, totalSteps: 4, decay: 'linear' },
      accumulation: 1,
      batch: toyBatch,
      checkpointEvery: 2,
      resume,
      recipe,
      settingNames: { corpus: '--corpus' },
    });
  } finally {
    await step.release();
  }
  return store.params.map((p) => Array.from(p.data));
}

describe('runTraining with a checkpoint directory left by killed runs', () => {
  test('removes the stale temporaries, says so in one line, keeps live ones, and resumes bit-exactly', async () => {
    const straight = await train(join(tmp, 'straight'), 3, false);

    const cut = join(tmp, 'cut');
    await train(cut, 3, false);
    const ckpt = join(cut, 'checkpoints');
    // Crash after update 2: the last checkpoint is lost, and killed writes left their temporaries.
    rmSync(join(ckpt, 'step-000004'), { recursive: true });
    writeFileAtomic(join(ckpt, 'latest'), 'step-000002\n');
    const dead = deadPid();
    fakeTempDir(ckpt, `.step-000004.tmp-${dead}`, 4096);
    writeFileSync(join(ckpt, `latest.${dead}.0123456789ab.tmp`), 'step-00');
    writeFileSync(join(cut, `model.safetensors.${dead}.0123456789ab.tmp`), new Uint8Array(100));
    const live = `.step-000004.tmp-${process.ppid}`; // the parent (test runner) is alive
    fakeTempDir(ckpt, live, 10);

    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string | Uint8Array) => {
      lines.push(String(s));
      return true;
    }) as typeof process.stderr.write;
    let resumed: number[][];
    try {
      resumed = await train(cut, 99, true);
    } finally {
      process.stderr.write = write;
    }
    assert.deepEqual(resumed, straight);
    const cleaned = lines.filter((l) => /stale/.test(l));
    assert.equal(cleaned.length, 1, lines.join(''));
    assert.match(cleaned[0], /^toy: removed 3 stale temporaries .*\(4\.2 kB\)/);
    assert.ok(
      lines.some((l) => /resumed from .*step-000002 at update 2/.test(l)),
      lines.join(''),
    );
    assert.deepEqual(readdirSync(ckpt).sort(), [live, 'latest', 'step-000002', 'step-000004']);
    assert.ok(!existsSync(join(cut, `model.safetensors.${dead}.0123456789ab.tmp`)));
  });

  test('--resume refuses a checkpoint written with other settings, naming them, and changes nothing', async () => {
    const out = join(tmp, 'other-lr');
    await train(out, 3, false);
    const ckpt = join(out, 'checkpoints');
    rmSync(join(ckpt, 'step-000004'), { recursive: true });
    writeFileAtomic(join(ckpt, 'latest'), 'step-000002\n');
    const before = readFileSync(join(ckpt, 'step-000002', 'model.safetensors'));
    await assert.rejects(
      train(out, 3, true, 1e-3),
      (e: Error) =>
        e instanceof UserError &&
        /^toy: --resume: .*step-000002 was written with other settings \(--lr 0\.003 there, 0\.001 now\); resume with the same settings/.test(
          e.message,
        ),
    );
    assert.ok(readFileSync(join(ckpt, 'step-000002', 'model.safetensors')).equals(before));
    assert.deepEqual(readdirSync(ckpt).sort(), ['latest', 'step-000002']);
  });

  test('a setting recorded since the checkpoint was written is not checked; one no longer given is', async () => {
    const out = join(tmp, 'added-setting');
    const straight = await train(join(tmp, 'added-straight'), 3, false, 3e-3, { corpus: 'a.txt' });
    await train(out, 3, false, 3e-3, { corpus: 'a.txt' });
    const ckpt = join(out, 'checkpoints');
    rmSync(join(ckpt, 'step-000004'), { recursive: true });
    writeFileAtomic(join(ckpt, 'latest'), 'step-000002\n');
    await assert.rejects(
      train(out, 3, true, 3e-3, {}),
      /other settings \(--corpus "a\.txt" there, unset now\)/,
    );
    // The checkpoint predates `--added`: the resume goes on, and replays the run bit-exactly.
    assert.deepEqual(await train(out, 3, true, 3e-3, { corpus: 'a.txt', added: 1 }), straight);
  });
});
