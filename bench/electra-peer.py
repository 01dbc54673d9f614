"""The peer of `minnow pretrain --objective electra`: the same ELECTRA recipe in Hugging Face
ElectraForMaskedLM (generator) + ElectraForPreTraining (discriminator) on PyTorch (CPU).

The generator shares the discriminator's embeddings (word, position, type, LayerNorm) and its decoder is the
tied word table, as in ELECTRA and minnow; it is `--gen-hidden` wide with the model's depth, one head, 4x
feed-forward, and projects the shared embeddings down to its width. Masking, windows, AdamW, schedule and
clip are bench/mlm-peer.py's. Loss = generator MLM (mean over masked pieces) + lambda * RTD (binary
cross-entropy at every piece; no padding here). Every --eval-every updates it scores the first N validation
windows and prints one JSON line: generator MLM loss, RTD loss, the constant guess's loss (the entropy of
the replaced fraction q), RTD accuracy and 1 - q. Run by bench/electra-peer.ts.
"""
import importlib.util
import json
import math
import os

import numpy as np
import torch
from transformers import ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining

_spec = importlib.util.spec_from_file_location("mlm_peer", os.path.join(os.path.dirname(__file__), "mlm-peer.py"))
mlm_peer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mlm_peer)


def build(c, vocab):
    shape = dict(vocab_size=vocab, embedding_size=c.hidden, max_position_embeddings=512)
    disc = ElectraForPreTraining(ElectraConfig(**shape, hidden_size=c.hidden, num_hidden_layers=c.layers,
                                               num_attention_heads=c.heads, intermediate_size=c.ffn))
    gh = c.gen_hidden or max(16, round(c.hidden / 2))
    gen = ElectraForMaskedLM(ElectraConfig(**shape, hidden_size=gh, num_hidden_layers=c.layers,
                                           num_attention_heads=gh // 64 if gh % 64 == 0 else 1,
                                           intermediate_size=4 * gh))
    gen.electra.embeddings = disc.electra.embeddings
    gen.generator_lm_head.weight = disc.electra.embeddings.word_embeddings.weight
    return gen, disc


def electra_loss(gen, disc, batch, rng, vocab):
    """Generator MLM at the masked rows, one sample per row, the discriminator on the corrupted text."""
    original = torch.from_numpy(batch)
    ids, labels = mlm_peer.mask(batch, rng, vocab)
    sel = labels != -100
    rows = gen.electra(input_ids=ids).last_hidden_state[sel]
    logits = gen.generator_lm_head(gen.generator_predictions(rows))
    mlm = torch.nn.functional.cross_entropy(logits, labels[sel])
    with torch.no_grad():
        sample = torch.multinomial(torch.softmax(logits, -1), 1)[:, 0]
    corrupted = ids.clone()
    corrupted[sel] = sample
    replaced = (corrupted != original).float()
    d = disc(input_ids=corrupted).logits
    rtd = torch.nn.functional.binary_cross_entropy_with_logits(d, replaced)
    return mlm, rtd, d, replaced


def main():
    a = mlm_peer.recipe_arguments(batch_size=16, threads=1, valid_sequences=128)
    a.add_argument("--rtd-weight", type=float, default=50)
    a.add_argument("--eval-every", type=int, default=50)
    a.add_argument("--gen-hidden", type=int, default=0)
    c = a.parse_args()
    torch.set_num_threads(c.threads)
    torch.manual_seed(c.seed)
    rng = np.random.default_rng(c.seed)
    vocab = 30522
    gen, disc = build(c, vocab)
    named = {}
    for m in (disc, gen):
        for n, p in m.named_parameters():
            named.setdefault(id(p), (n, p))
    plain = [p for n, p in named.values() if not (n.endswith("bias") or "LayerNorm" in n)]
    other = [p for n, p in named.values() if n.endswith("bias") or "LayerNorm" in n]
    params = plain + other
    opt = torch.optim.AdamW([{"params": plain, "weight_decay": 0.01}, {"params": other, "weight_decay": 0.0}],
                            lr=c.lr, betas=(0.9, 0.999), eps=1e-6)
    updates = max(1, math.ceil(c.tokens / (c.batch_size * (c.seq_len - 2))))
    warm = max(1, round(c.warmup * updates))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, 1 - (s - warm) / max(1, updates - warm)))
    train = mlm_peer.windows(mlm_peer.read_cache(c.train_cache), c.seq_len)
    valid = mlm_peer.windows(mlm_peer.read_cache(c.valid_cache), c.seq_len)[: c.valid_sequences]
    order = rng.permutation(len(train))

    def evaluate(update):
        gen.eval()
        disc.eval()
        vrng = np.random.default_rng(c.seed + 1)
        mlm_sum = rtd_sum = right = replaced = pieces = masked = 0
        with torch.no_grad():
            for i in range(0, len(valid), c.batch_size):
                batch = valid[i : i + c.batch_size]
                mlm, rtd, d, rep = electra_loss(gen, disc, batch, vrng, vocab)
                n = rep.numel()
                mlm_sum += mlm.item() * n
                rtd_sum += rtd.item() * n
                right += ((d > 0).float() == rep).sum().item()
                replaced += rep.sum().item()
                pieces += n
        q = replaced / pieces
        print(json.dumps({
            "update": update,
            "valid_generator_mlm_loss": mlm_sum / pieces,
            "valid_rtd_loss": rtd_sum / pieces,
            "valid_rtd_accuracy": right / pieces,
            "valid_replaced_fraction": q,
        }), flush=True)
        gen.train()
        disc.train()

    for step in range(updates):
        idx = order[(np.arange(c.batch_size) + step * c.batch_size) % len(order)]
        mlm, rtd, _, _ = electra_loss(gen, disc, train[idx], rng, vocab)
        (mlm + c.rtd_weight * rtd).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        if (step + 1) % c.eval_every == 0 or step + 1 == updates:
            evaluate(step + 1)
    print(json.dumps({"system": f"PyTorch {torch.__version__} + transformers ELECTRA", "updates": updates}))


if __name__ == "__main__":
    main()
