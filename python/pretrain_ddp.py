"""Pre-train a minnow model with Hugging Face Trainer, data-parallel under torchrun (DDP).

minnow pre-trains in one process on one machine; this recipe runs minnow's masked-LM recipe on as many
processes, GPUs and machines as torchrun starts, and writes a model directory minnow reads (fine-tune,
distil, export, serve it there). It reads what `minnow pretrain` reads:
  --init DIR           a minnow model directory to start from (hash, low-rank or table), with its
                       configuration_minnow.py / modeling_minnow.py (minnow writes them); a fresh one:
                       `minnow pretrain --preset eelbert-tiny --corpus train.txt --valid valid.txt --tokens 1000
                       --out runs/init` (that run also writes the token caches below)
  --train-cache FILE   minnow's token cache of the training text (`minnow-tokens/1`, in --cache-dir of
  --valid-cache FILE   `minnow pretrain`, .minnow-cache/ by default), and of the validation text
and minnow's recipe (src/train/pretrain.ts, src/train/masking.ts): [CLS] window [SEP] sequences of --seq-len
cut from the token stream in a seeded order, 15% of each sequence's pieces masked (80% [MASK], 10% a random
ordinary piece, 10% kept), the decoder run on the masked rows only, AdamW (eps 1e-6, weight decay 0.01 but not
on biases and LayerNorm), linear warm-up then linear decay, gradient norm clipped at 1. --tokens is the budget
in corpus pieces, as minnow counts it: updates = ceil(tokens / (global batch x (seq_len - 2))), where the
global batch is --batch-size per process times the number of processes.

    # 2 CPU processes (gloo):
    torchrun --nproc_per_node 2 python/pretrain_ddp.py --init runs/init --train-cache C1 --valid-cache C2 \\
        --tokens 2000000 --out runs/ddp
    # N GPUs on one machine (nccl), and two machines of N GPUs each:
    torchrun --nproc_per_node N python/pretrain_ddp.py ... --backend nccl
    torchrun --nnodes 2 --nproc_per_node N --rdzv_backend c10d --rdzv_endpoint HOST:29500 \\
        python/pretrain_ddp.py ... --backend nccl

OUT is a minnow model directory: config.json (with this run appended to minnow_pretraining), model.safetensors
with the masked-LM head (minnow reads it there), vocab.txt, tokenizer_config.json and the remote code;
OUT/trainer holds Trainer's checkpoints (--save-steps). Rank 0 prints one JSON line: updates, tokens/s and the
validation masked-LM loss and accuracy on the first --valid-sequences windows (masks seeded by --seed + 1).
"""

import argparse
import datetime
import json
import math
import os
import shutil
import time

import numpy as np
import torch
import transformers

CLS_TOKEN, SEP_TOKEN, MASK_TOKEN = "[CLS]", "[SEP]", "[MASK]"
FIRST_ORDINARY_ID = 999  # bert-base-uncased: [unused*] and specials come first (src/train/masking.ts)


def read_cache(path):
    """A minnow token cache: a JSON header line, then uint16 words (bit 15 marks a word start)."""
    with open(path, "rb") as f:
        header = json.loads(f.readline())
        if header.get("magic") != "minnow-tokens/1":
            raise SystemExit(f"{path}: not a minnow token cache (magic {header.get('magic')!r})")
        data = np.frombuffer(f.read(), dtype="<u2", count=header["count"])
    return (data & 0x7FFF).astype(np.int64), header


def windows(tokens, seq_len, cls, sep):
    n = seq_len - 2
    count = len(tokens) // n
    out = np.empty((count, seq_len), dtype=np.int64)
    out[:, 0] = cls
    out[:, 1:-1] = tokens[: count * n].reshape(count, n)
    out[:, -1] = sep
    return out


def mask(batch, rng, vocab, mask_id, first_ordinary, p=0.15):
    """minnow's dynamic masking of [CLS] body [SEP] rows: labels -100 where nothing is predicted."""
    ids = batch.copy()
    labels = np.full_like(ids, -100)
    body = np.zeros_like(ids, dtype=bool)
    body[:, 1:-1] = True
    chosen = (rng.random(ids.shape) < p) & body
    labels[chosen] = ids[chosen]
    r = rng.random(ids.shape)
    ids[chosen & (r < 0.8)] = mask_id
    swap = chosen & (r >= 0.8) & (r < 0.9)
    ids[swap] = rng.integers(first_ordinary, vocab, size=int(swap.sum()))
    return ids, labels


class Windows(torch.utils.data.Dataset):
    def __init__(self, rows):
        self.rows = rows

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]


class Masker:
    """The collator: masks each batch afresh (a generator per process, seeded by --seed and the rank)."""

    def __init__(self, seed, vocab, mask_id, first_ordinary):
        rank = int(os.environ.get("RANK", "0"))
        self.rng = np.random.default_rng([seed, rank])
        self.vocab, self.mask_id, self.first = vocab, mask_id, first_ordinary

    def __call__(self, rows):
        ids, labels = mask(np.stack(rows), self.rng, self.vocab, self.mask_id, self.first)
        ids = torch.from_numpy(ids)
        return {
            "input_ids": ids,
            "attention_mask": torch.ones_like(ids),
            "token_type_ids": torch.zeros_like(ids),
            "labels": torch.from_numpy(labels),
            "masked_only": True,
        }


def lr_factor(step, warmup_steps, total_steps):
    """minnow's schedule (src/runtime/schedule.ts lrFactor, linear decay): the first update already learns."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    return 1 - min(1.0, max(0.0, (step - warmup_steps) / max(1, total_steps - warmup_steps)))


class MinnowTrainer(transformers.Trainer):
    """Trainer with minnow's learning-rate schedule (transformers' linear warm-up starts at 0: one update lost)."""

    def __init__(self, *args, warmup_steps=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.minnow_warmup = warmup_steps

    def create_scheduler(self, num_training_steps, optimizer=None):
        if self.lr_scheduler is None:
            self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
                optimizer if optimizer is not None else self.optimizer,
                lambda step: lr_factor(step, self.minnow_warmup, num_training_steps),
            )
        return self.lr_scheduler


def validate(model, rows, batch_size, seed, vocab, mask_id, first_ordinary):
    rng = np.random.default_rng(seed + 1)
    loss_sum = correct = count = 0
    model.eval()
    with torch.no_grad():
        for i in range(0, len(rows), batch_size):
            ids, labels = mask(rows[i : i + batch_size], rng, vocab, mask_id, first_ordinary)
            labels_t = torch.from_numpy(labels)
            out = model(input_ids=torch.from_numpy(ids), labels=labels_t, masked_only=True)
            target = labels_t[labels_t != -100]
            loss_sum += out.loss.item() * len(target)
            correct += (out.logits.argmax(-1) == target).sum().item()
            count += len(target)
    return loss_sum / max(1, count), correct / max(1, count)


def main():
    a = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    a.add_argument("--init", required=True)
    a.add_argument("--train-cache", required=True)
    a.add_argument("--valid-cache")
    a.add_argument("--out", required=True)
    a.add_argument("--tokens", type=int, required=True)
    a.add_argument("--seq-len", type=int, default=128)
    a.add_argument("--batch-size", type=int, default=16, help="sequences per process and update")
    a.add_argument("--lr", type=float, default=1e-3)
    a.add_argument("--warmup", type=float, default=0.02)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--valid-sequences", type=int, default=256)
    a.add_argument("--save-steps", type=int, default=500)
    a.add_argument("--backend", default="gloo", help="gloo (CPU) or nccl (GPUs)")
    a.add_argument("--threads", type=int, default=1, help="torch threads per process (CPU)")
    c = a.parse_args()
    torch.set_num_threads(c.threads)
    transformers.logging.set_verbosity_error()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))

    model = transformers.AutoModelForMaskedLM.from_pretrained(c.init, trust_remote_code=True)
    tokenizer = transformers.AutoTokenizer.from_pretrained(c.init, trust_remote_code=True)
    vocab = model.config.vocab_size
    cls, sep, mask_id = (tokenizer.convert_tokens_to_ids(t) for t in (CLS_TOKEN, SEP_TOKEN, MASK_TOKEN))
    first_ordinary = FIRST_ORDINARY_ID if vocab > FIRST_ORDINARY_ID else 0
    tokens, header = read_cache(c.train_cache)
    if header["vocabSize"] != vocab:
        raise SystemExit(f"{c.train_cache}: tokens of a {header['vocabSize']}-piece vocabulary, the model has {vocab}")
    train = windows(tokens, c.seq_len, cls, sep)
    updates = max(1, math.ceil(c.tokens / (c.batch_size * world * (c.seq_len - 2))))
    gpu = c.backend == "nccl"
    args = transformers.TrainingArguments(
        output_dir=os.path.join(c.out, "trainer"),
        per_device_train_batch_size=c.batch_size,
        max_steps=updates,
        learning_rate=c.lr,
        weight_decay=0.01,
        adam_epsilon=1e-6,
        max_grad_norm=1.0,
        seed=c.seed,
        data_seed=c.seed,
        use_cpu=not gpu,
        ddp_backend=c.backend if world > 1 else None,
        ddp_find_unused_parameters=True,  # the pooler is saved but not used by the masked-LM loss
        dataloader_drop_last=True,
        remove_unused_columns=False,
        save_steps=c.save_steps,
        save_total_limit=2,
        logging_steps=max(1, updates // 20),
        report_to=[],
        disable_tqdm=True,
    )
    trainer = MinnowTrainer(
        model=model,
        args=args,
        train_dataset=Windows(train),
        data_collator=Masker(c.seed, vocab, mask_id, first_ordinary),
        warmup_steps=math.floor(c.warmup * updates + 0.5),  # Math.round, as minnow rounds
    )
    t0 = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - t0
    if rank != 0:
        return
    model = trainer.model
    result = {"processes": world, "updates": updates, "train_seconds": seconds,
              "tokens_per_s": updates * c.batch_size * world * (c.seq_len - 2) / seconds}
    if c.valid_cache:
        valid_tokens, _ = read_cache(c.valid_cache)
        valid = windows(valid_tokens, c.seq_len, cls, sep)[: c.valid_sequences]
        loss, accuracy = validate(model, valid, c.batch_size, c.seed, vocab, mask_id, first_ordinary)
        result.update(valid_mlm_loss=loss, valid_mlm_accuracy=accuracy)
    record = {
        "corpus": header.get("source", os.path.basename(c.train_cache)),
        "tokens": c.tokens,
        "updates": updates,
        "batch_size": c.batch_size * world,
        "seq_len": c.seq_len,
        "lr": c.lr,
        **({"valid_mlm_loss": result["valid_mlm_loss"], "valid_mlm_accuracy": result["valid_mlm_accuracy"]}
           if c.valid_cache else {}),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
    }
    model.config.minnow_pretraining = [*(getattr(model.config, "minnow_pretraining", None) or []), record]
    model.save_pretrained(c.out)
    for f in ("vocab.txt", "tokenizer_config.json", "tokenizer.json"):
        if os.path.isfile(os.path.join(c.init, f)):
            shutil.copyfile(os.path.join(c.init, f), os.path.join(c.out, f))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
