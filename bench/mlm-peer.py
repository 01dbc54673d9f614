"""The peer of `minnow pretrain`: the same masked-LM recipe in Hugging Face BertForMaskedLM on PyTorch (CPU).

Reads minnow's token caches (format `minnow-tokens/1`, see src/data/corpus.ts) so both see the same pieces;
cuts the training stream into [CLS] window [SEP] sequences in a seeded order, masks 15% of each sequence's
pieces (80% [MASK], 10% random piece, 10% kept), trains with AdamW (eps 1e-6, decay 0.01 except biases and
LayerNorm), linear warmup then linear decay, gradient-norm clip, then scores the masked-LM loss and accuracy
on the first N windows of the validation stream. The decoder runs on the masked rows only (see masked_loss).
Prints one JSON line. Run by bench/mlm-peer.ts.
"""
import argparse
import json
import math
import time

import numpy as np
import torch
from transformers import BertConfig, BertForMaskedLM

CLS, SEP, MASK = 101, 102, 103


def read_cache(path):
    with open(path, "rb") as f:
        header = json.loads(f.readline())
        data = np.frombuffer(f.read(), dtype="<u2", count=header["count"])
    return (data & 0x7FFF).astype(np.int64)


def windows(tokens, seq_len):
    n = seq_len - 2
    count = len(tokens) // n
    body = tokens[: count * n].reshape(count, n)
    out = np.empty((count, seq_len), dtype=np.int64)
    out[:, 0] = CLS
    out[:, 1:-1] = body
    out[:, -1] = SEP
    return out


def mask(batch, rng, vocab, p=0.15):
    ids = batch.copy()
    labels = np.full_like(ids, -100)
    body = np.zeros_like(ids, dtype=bool)
    body[:, 1:-1] = True
    chosen = (rng.random(ids.shape) < p) & body
    labels[chosen] = ids[chosen]
    r = rng.random(ids.shape)
    ids[chosen & (r < 0.8)] = MASK
    swap = chosen & (r >= 0.8) & (r < 0.9)
    ids[swap] = rng.integers(999, vocab, size=int(swap.sum()))
    return torch.from_numpy(ids), torch.from_numpy(labels)


def masked_loss(model, ids, labels):
    """Mean cross-entropy at the masked positions, with decoder logits for those rows only (as minnow does;
    BertForMaskedLM's own forward would compute all B x T x V logits, ~1 GB a step at batch 64)."""
    hidden = model.bert(input_ids=ids).last_hidden_state
    sel = labels != -100
    logits = model.cls(hidden[sel])
    target = labels[sel]
    return torch.nn.functional.cross_entropy(logits, target), logits, target


def recipe_arguments(batch_size, threads, valid_sequences):
    """The flags both peers take: the data, the recipe and the model shape (bench/peer-python.ts passes it)."""
    a = argparse.ArgumentParser()
    a.add_argument("--train-cache", required=True)
    a.add_argument("--valid-cache", required=True)
    a.add_argument("--tokens", type=int, required=True)
    a.add_argument("--seq-len", type=int, default=128)
    a.add_argument("--batch-size", type=int, default=batch_size)
    a.add_argument("--lr", type=float, default=1e-3)
    a.add_argument("--warmup", type=float, default=0.02)
    a.add_argument("--threads", type=int, default=threads)
    a.add_argument("--valid-sequences", type=int, default=valid_sequences)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--layers", type=int, default=2)
    a.add_argument("--hidden", type=int, default=128)
    a.add_argument("--heads", type=int, default=2)
    a.add_argument("--ffn", type=int, default=512)
    return a


def main():
    c = recipe_arguments(batch_size=64, threads=2, valid_sequences=512).parse_args()
    torch.set_num_threads(c.threads)
    torch.manual_seed(c.seed)
    rng = np.random.default_rng(c.seed)
    vocab = 30522
    cfg = BertConfig(vocab_size=vocab, hidden_size=c.hidden, num_hidden_layers=c.layers,
                     num_attention_heads=c.heads, intermediate_size=c.ffn, max_position_embeddings=512)
    model = BertForMaskedLM(cfg)
    train = windows(read_cache(c.train_cache), c.seq_len)
    valid = windows(read_cache(c.valid_cache), c.seq_len)[: c.valid_sequences]
    per_update = c.batch_size * c.seq_len
    # As minnow counts: the budget is corpus pieces, seq_len - 2 per sequence ([CLS] and [SEP] are not).
    updates = max(1, math.ceil(c.tokens / (c.batch_size * (c.seq_len - 2))))
    warm = max(1, round(c.warmup * updates))
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    other = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": other, "weight_decay": 0.0}],
                            lr=c.lr, betas=(0.9, 0.999), eps=1e-6)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, 1 - (s - warm) / max(1, updates - warm)))
    order = rng.permutation(len(train))
    model.train()
    t0 = time.perf_counter()
    for step in range(updates):
        idx = order[(np.arange(c.batch_size) + step * c.batch_size) % len(order)]
        ids, labels = mask(train[idx], rng, vocab)
        loss = masked_loss(model, ids, labels)[0]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
    seconds = time.perf_counter() - t0
    model.eval()
    vrng = np.random.default_rng(c.seed + 1)
    loss_sum = correct = count = 0
    with torch.no_grad():
        for i in range(0, len(valid), c.batch_size):
            ids, labels = mask(valid[i : i + c.batch_size], vrng, vocab)
            loss, logits, target = masked_loss(model, ids, labels)
            loss_sum += loss.item() * len(target)
            correct += (logits.argmax(-1) == target).sum().item()
            count += len(target)
    print(json.dumps({
        "system": f"PyTorch {torch.__version__} + transformers BertForMaskedLM",
        "updates": updates,
        "train_seconds": seconds,
        "tokens_per_s": updates * per_update / seconds,
        "valid_mlm_loss": loss_sum / count,
        "valid_mlm_accuracy": correct / count,
        "valid_masked": count,
    }))


if __name__ == "__main__":
    main()
