/**
 * python/pretrain_ddp.py: minnow's masked-LM recipe on Hugging Face Trainer under torchrun, here with 2 CPU
 * processes on the gloo backend, starting from a directory `minnow pretrain` wrote and reading its token
 * caches; the result is a minnow model directory (info shows both runs, fine-tune and export read it).
 * Skipped, with one message, without a Python that imports torch, transformers and accelerate.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadModel, readConfig } from '../model/io.js';
import { readSafetensors } from '../runtime/safetensors-file.js';
import { PACKAGE_ROOT } from '../util/assets.js';
import { torchPython } from '../util/python.testkit.js';
import { minnow, ok } from './cli.testkit.js';

function trainerPython(): { python: string } | { skip: string } {
  const py = torchPython();
  if ('skip' in py) return py;
  const r = spawnSync(py.python, ['-c', 'import accelerate'], { encoding: 'utf8' });
  return r.status === 0 ? py : { skip: `${py.python} cannot import accelerate (Trainer needs it)` };
}

const py = trainerPython();
let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'minnow-ddp-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('pre-training under torchrun (2 processes, gloo)', { skip: 'skip' in py ? py.skip : false }, () => {
  test('starts from a minnow directory, reads its token caches, and writes one minnow reads', () => {
    const python = 'python' in py ? py.python : '';
    const fixtures = join(PACKAGE_ROOT, 'test/fixtures');
    const cache = join(tmp, 'cache');
    const init = join(tmp, 'init');
    ok(
      minnow(
        'pretrain',
        '--preset',
        'uno-eelbert',
        '--corpus',
        join(fixtures, 'general-corpus.txt'),
        '--valid',
        join(fixtures, 'general-valid.txt'),
        '--out',
        init,
        '--tokens',
        '1000',
        '--seq-len',
        '64',
        '--cache-dir',
        cache,
        '--threads',
        '1',
      ),
    );
    const cacheOf = (name: string) =>
      join(
        cache,
        readdirSync(cache).find((f) => f.startsWith(`${name}.`))!,
      );
    const out = join(tmp, 'ddp');
    const r = spawnSync(
      python,
      [
        '-m',
        'torch.distributed.run',
        '--nproc_per_node',
        '2',
        '--master_port',
        String(29500 + (process.pid % 1000)),
        join(PACKAGE_ROOT, 'python/pretrain_ddp.py'),
        '--init',
        init,
        '--train-cache',
        cacheOf('general-corpus.txt'),
        '--valid-cache',
        cacheOf('general-valid.txt'),
        '--tokens',
        '3000',
        '--seq-len',
        '64',
        '--batch-size',
        '8',
        '--out',
        out,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, HF_HOME: join(tmp, 'hf-home'), HF_HUB_OFFLINE: '1', OMP_NUM_THREADS: '1' },
      },
    );
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(result.processes, 2);
    assert.equal(result.updates, Math.ceil(3000 / (8 * 2 * 62)));
    const before = readConfig(init).minnow_pretraining![0].valid_mlm_loss!;
    assert.ok(result.valid_mlm_loss < before, `valid MLM loss ${result.valid_mlm_loss}, ${before} before`);

    // minnow reads it: both runs recorded, the masked-LM head from model.safetensors, fine-tune and export.
    const config = readConfig(out);
    assert.equal(config.minnow_pretraining?.length, 2);
    assert.equal(config.minnow_pretraining?.[1].batch_size, 16);
    assert.match(ok(minnow('info', out)).out, /3,000 tokens of general-corpus\.txt \(4 updates of 16 x 64/);
    const saved = readSafetensors(join(out, 'model.safetensors')).tensors.get('cls.predictions.bias')!;
    assert.deepEqual(loadModel(out, { mlm: true }).store.get('cls.predictions.bias').data, saved.data);
    const data = join(tmp, 'own.tsv');
    const rows = [
      'a fine film\tpositive',
      'a dull film\tnegative',
      'great fun\tpositive',
      'a bore\tnegative',
    ];
    writeFileSync(data, `sentence\tlabel\n${[...rows, ...rows, ...rows].join('\n')}\n`);
    const own = ['--data', data, '--text-column', 'sentence', '--label-column', 'label', '--threads', '1'];
    const ft = join(tmp, 'finetuned');
    ok(minnow('finetune', '--model', out, ...own, '--out', ft, '--epochs', '1'));
    ok(minnow('export', '--model', ft, '--out', join(tmp, 'export'), '--quantize', 'none', '--threads', '1'));
  });
});
