"""Hugging Face models for minnow's BERT variants (transformers remote code; see configuration_minnow.py).

The encoder is transformers' own BERT (BertModel's layers and pooler, Hugging Face weight names); only the
word embeddings differ, as in minnow's src/model/bert.ts:
  table    BERT's (V, H) lookup
  hash     EELBERT's n-gram pooling hash: a (V, H) table computed from the vocabulary at load, bit for bit
           the table of minnow's src/text/hash-embedding.ts (never stored; optionally followed by a trainable
           (H, H) projection with bias, `bert.embeddings.word_projection`)
  lowrank  learned codes C (V, k) in `bert.embeddings.word_embeddings.weight`, projected up by
           P (H, k) in `bert.embeddings.word_projection.weight` (no bias): words = C[ids] P^T
Heads: MinnowModel (AutoModel), MinnowForMaskedLM (AutoModelForMaskedLM; the decoder tied to the input
embeddings as minnow ties it: the hash table itself, or (h P) C^T for low-rank codes, plus
`cls.predictions.bias`; minnow keeps that head in mlm_head.safetensors, read here when present) and
MinnowForSequenceClassification (classification or regression on the pooled [CLS]).

A hash model needs its vocabulary to build the table: from_pretrained reads vocab.txt, or tokenizer.json's
WordPiece vocabulary, beside config.json; a model made with from_config gets it from set_vocabulary(tokens).
A hybrid's bag-of-n-grams path (config.json `ngram`) is not implemented here: the sequence classifier
refuses such a model (minnow export's ONNX files run it).
Self-contained: torch and transformers (and numpy, which transformers requires).
"""

import json
import math
import os
import re

import numpy as np
import torch
from torch import nn
from torch.nn import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from transformers import PreTrainedModel
from transformers.modeling_outputs import MaskedLMOutput, SequenceClassifierOutput
from transformers.models.bert.modeling_bert import BertModel, BertPredictionHeadTransform

from .configuration_minnow import HASH_DEFAULTS, MinnowConfig

# ---------------------------------------------------------------------------------------------------------
# EELBERT n-gram pooling hash, as src/text/hash-embedding.ts computes it (that file's comment has the
# algorithm). 32-bit arithmetic in numpy uint32 (wrapping like Math.imul and >>> 0), sums in float64 in the
# same order, one rounding to float32 at the end.

_U32 = np.uint32
_C1 = _U32(0xCC9E2D51)
_C2 = _U32(0x1B873593)


def _rotl(x, r):
    return (x << _U32(r)) | (x >> _U32(32 - r))


def _mix_k(k):
    return _rotl(k * _C1, 15) * _C2


def _mix_h(h, k1):
    h = _rotl(h ^ k1, 13)
    return h * _U32(5) + _U32(0xE6546B64)


def _fmix32(h):
    h = (h ^ (h >> _U32(16))) * _U32(0x85EBCA6B)
    h = (h ^ (h >> _U32(13))) * _U32(0xC2B2AE35)
    return h ^ (h >> _U32(16))


def _js_round(x):
    """JavaScript's Math.round for x >= 0 (halves go up; Python's round goes to even)."""
    r = math.floor(x)
    return r + 1 if x - r >= 0.5 else r


def _dim_seeds(seed, dim):
    """splitmix32 from seed: the per-dimension seeds."""
    s = np.arange(1, dim + 1, dtype=np.uint64) * np.uint64(0x9E3779B9) + np.uint64(seed)
    return _fmix32((s & np.uint64(0xFFFFFFFF)).astype(_U32))


def partition_blocks(dim, cfg):
    """[start, end) of the dims each n-gram size writes (as partitionBlocks in hash-embedding.ts)."""
    sizes = range(cfg["ngramMin"], cfg["ngramMax"] + 1)
    if cfg["partition"] == "shared":
        return [(0, dim) for _ in sizes]
    total = sum(sizes)
    widths = [dim * n // total for n in sizes]
    widths[-1] += dim - sum(widths)
    starts = np.cumsum([0] + widths)
    return [(int(starts[i]), int(starts[i + 1])) for i in range(len(widths))]


_SPECIAL = re.compile(r"\[[A-Z]+\]")


def boundary_form(piece):
    """A piece as hashed with boundary markers: `<` + a word-initial piece, a `##` piece without `##`."""
    if _SPECIAL.fullmatch(piece):
        return piece
    return piece[2:] if piece.startswith("##") and len(piece) > 2 else "<" + piece


def _values(seeds, k1):
    """(rows, dims) gram values in [-1, 1] from pre-mixed keys k1 (rows,) and seeds (dims,), float64."""
    v = _fmix32(_mix_h(seeds[None, :], k1[:, None]) ^ _U32(4))
    return v.astype(np.float64) / 4294967295.0 * 2.0 - 1.0


def _keys(codes, lengths, start, n, seed):
    """Pre-mixed murmur3 keys of the grams codes[:, start:start+n] (rows whose length allows it)."""
    h = np.full(codes.shape[0], seed, dtype=_U32)
    for i in range(n):
        h = _mix_h(h, _mix_k(codes[:, start + i]))
    return _mix_k(_fmix32(h ^ _U32(4 * n)))


def hash_embedding_table(vocab, dim, cfg=None):
    """The (V, dim) float32 EELBERT table of `vocab` (row i = minnow's hashEmbedding(vocab[i], dim, cfg))."""
    cfg = {**HASH_DEFAULTS, **(cfg or {})}
    if cfg.get("hash", "murmur3") != "murmur3":
        raise ValueError(f'hash_embedding.hash must be "murmur3", got {cfg["hash"]!r}')
    seed = _U32(int(cfg["seed"]) & 0xFFFFFFFF)
    whole = _js_round(dim * float(cfg.get("wholeToken") or 0))
    if whole >= dim:
        raise ValueError(f"hash_embedding.wholeToken {cfg.get('wholeToken')} leaves no n-gram dims")
    pieces = [boundary_form(p) for p in vocab] if cfg.get("boundaries") else list(vocab)
    lengths = np.array([len(p) for p in pieces], dtype=np.int64)
    width = max(1, int(lengths.max(initial=0)))
    codes = np.zeros((len(pieces), width), dtype=_U32)
    for r, p in enumerate(pieces):
        codes[r, : len(p)] = [ord(c) for c in p]
    seeds = _dim_seeds(int(seed), dim)
    blocks = partition_blocks(dim - whole, cfg)
    acc = np.zeros((len(pieces), dim), dtype=np.float64)
    shared = cfg["partition"] == "shared"
    shared_count = np.zeros(len(pieces), dtype=np.int64)
    for b, n in enumerate(range(cfg["ngramMin"], cfg["ngramMax"] + 1)):
        lo, hi = blocks[b]
        count = lengths - n + 1
        for g in range(width - n + 1):
            rows = np.nonzero(count > g)[0]
            if rows.size == 0:
                break
            k1 = _keys(codes[rows], lengths[rows], g, n, seed)
            acc[rows, lo:hi] += _values(seeds[lo:hi], k1)
        has = count > 0
        if shared:
            shared_count += np.where(has, count, 0)
        else:
            acc[has, lo:hi] /= count[has, None].astype(np.float64)
    if shared:
        has = shared_count > 0
        acc[has, : dim - whole] /= shared_count[has, None].astype(np.float64)
    if whole > 0:
        rows = np.nonzero(lengths > 0)[0]
        h = np.full(rows.size, seed, dtype=_U32)
        for i in range(width):
            h = np.where(lengths[rows] > i, _mix_h(h, _mix_k(codes[rows, i])), h)
        k1 = _mix_k(_fmix32(h ^ (lengths[rows] * 4).astype(_U32)))
        acc[rows, dim - whole :] = _values(seeds[dim - whole :], k1)
    return acc.astype(np.float32)


# ---------------------------------------------------------------------------------------------------------
# The vocabulary of a model directory (vocab.txt, else tokenizer.json's WordPiece model).


def read_vocab_txt(path):
    """The lines of a vocab.txt (id = line number - 1), read as minnow reads them."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_vocabulary(directory):
    """The vocabulary (id order) from vocab.txt or tokenizer.json in `directory` (a path or a cached_file dir)."""
    vocab_txt = os.path.join(directory, "vocab.txt")
    if os.path.isfile(vocab_txt):
        return read_vocab_txt(vocab_txt)
    tokenizer_json = os.path.join(directory, "tokenizer.json")
    if os.path.isfile(tokenizer_json):
        with open(tokenizer_json, encoding="utf-8") as f:
            vocab = (json.load(f).get("model") or {}).get("vocab")
        if not isinstance(vocab, dict) or not vocab:
            raise ValueError(f"{tokenizer_json}: no WordPiece vocabulary (model.vocab)")
        out = [None] * (max(vocab.values()) + 1)
        for piece, i in vocab.items():
            out[i] = piece
        if any(p is None for p in out):
            raise ValueError(f"{tokenizer_json}: model.vocab does not number its pieces 0..N-1")
        return out
    return None


def _resolve_file(name_or_path, filename, kwargs):
    """A file of a local directory or a Hub repo (None when it has none)."""
    if os.path.isdir(str(name_or_path)):
        path = os.path.join(str(name_or_path), filename)
        return path if os.path.isfile(path) else None
    from transformers.utils import cached_file

    keep = ("cache_dir", "force_download", "proxies", "token", "revision", "local_files_only", "subfolder")
    return cached_file(
        name_or_path,
        filename,
        _raise_exceptions_for_missing_entries=False,
        _raise_exceptions_for_connection_errors=False,
        **{k: v for k, v in kwargs.items() if k in keep},
    )


# ---------------------------------------------------------------------------------------------------------
# The model.


class MinnowEmbeddings(nn.Module):
    """BertEmbeddings with minnow's word embeddings: words + positions + segments, LayerNorm, dropout."""

    def __init__(self, config):
        super().__init__()
        H = config.hidden_size
        self.embedding_type = config.embedding_type
        if config.embedding_type == "hash":
            # Computed from the vocabulary (set_vocabulary), never stored.
            self.register_buffer("hash_table", torch.zeros(config.vocab_size, H), persistent=False)
            self.has_vocabulary = False
            if (config.hash_embedding or {}).get("projection"):
                self.word_projection = nn.Linear(H, H)
        elif config.embedding_type == "lowrank":
            self.word_embeddings = nn.Embedding(config.vocab_size, config.lowrank_dim)
            self.word_projection = nn.Linear(config.lowrank_dim, H, bias=False)
        else:
            self.word_embeddings = nn.Embedding(config.vocab_size, H)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, H)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, H)
        self.LayerNorm = nn.LayerNorm(H, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.hash_config = config.hash_embedding

    def set_vocabulary(self, vocab):
        """Compute a hash model's table from its vocabulary (id order)."""
        if self.embedding_type != "hash":
            return
        if len(vocab) != self.hash_table.shape[0]:
            raise ValueError(f"vocabulary has {len(vocab)} pieces but vocab_size is {self.hash_table.shape[0]}")
        table = hash_embedding_table(vocab, self.hash_table.shape[1], self.hash_config)
        self.hash_table = torch.from_numpy(table).to(self.position_embeddings.weight.device)
        self.has_vocabulary = True

    def words(self, input_ids):
        """Word embeddings (..., H) of input_ids."""
        if self.embedding_type == "hash":
            if not self.has_vocabulary:
                raise ValueError(
                    "a hash-embedding model needs its vocabulary: load it with from_pretrained from a "
                    "directory with vocab.txt or tokenizer.json, or call model.set_vocabulary(tokens)"
                )
            x = nn.functional.embedding(input_ids, self.hash_table.to(self.position_embeddings.weight.dtype))
            return self.word_projection(x) if hasattr(self, "word_projection") else x
        x = self.word_embeddings(input_ids)
        return self.word_projection(x) if self.embedding_type == "lowrank" else x

    def forward(self, input_ids=None, token_type_ids=None, position_ids=None, inputs_embeds=None, **kwargs):
        words = self.words(input_ids) if inputs_embeds is None else inputs_embeds
        B, T = words.shape[:2]
        start = kwargs.get("past_key_values_length", 0) or 0
        if position_ids is None:
            position_ids = torch.arange(start, start + T, device=words.device).expand(B, T)
        if token_type_ids is None:
            token_type_ids = torch.zeros((B, T), dtype=torch.long, device=words.device)
        x = words + self.position_embeddings(position_ids) + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(x))


class MinnowPreTrainedModel(PreTrainedModel):
    config_class = MinnowConfig
    base_model_prefix = "bert"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    # A table in model.safetensors that minnow does not read (a hash model's is recomputed).
    _keys_to_ignore_on_load_unexpected = [r"position_ids", r"word_embeddings\.weight"]

    @torch.no_grad()
    def _init_weights(self, module):
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            module.weight.normal_(0.0, std)
            if module.bias is not None:
                module.bias.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.normal_(0.0, std)
        elif isinstance(module, nn.LayerNorm):
            module.weight.fill_(1.0)
            module.bias.zero_()
        elif isinstance(module, MinnowEmbeddings) and hasattr(module, "word_projection"):
            if module.embedding_type == "hash":  # starts as the identity, as in minnow
                module.word_projection.weight.copy_(torch.eye(module.word_projection.weight.shape[0]))
                module.word_projection.bias.zero_()
        elif isinstance(module, MinnowForMaskedLM):
            module.mlm_bias.zero_()

    def _minnow_embeddings(self):
        return getattr(self, self.base_model_prefix, self).embeddings

    def set_vocabulary(self, vocab):
        """Compute a hash model's embedding table from its vocabulary (id order)."""
        self._minnow_embeddings().set_vocabulary(list(vocab))

    def _after_load(self, name_or_path, kwargs):
        if self.config.embedding_type != "hash":
            return
        vocab = None
        for filename in ("vocab.txt", "tokenizer.json"):
            path = _resolve_file(name_or_path, filename, kwargs)
            if path:
                vocab = read_vocabulary(os.path.dirname(path))
                break
        if vocab is None:
            raise OSError(
                f"{name_or_path}: a hash-embedding model computes its word embeddings from the vocabulary, "
                "and the directory has neither vocab.txt nor tokenizer.json (a minnow model that names a "
                "shipped vocabulary, minnow_vocab, needs vocab.txt copied beside config.json)"
            )
        self.set_vocabulary(vocab)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        loaded = super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        model = loaded[0] if isinstance(loaded, tuple) else loaded
        model._after_load(pretrained_model_name_or_path, kwargs)
        return loaded


class MinnowModel(MinnowPreTrainedModel):
    """The encoder (AutoModel): transformers' BertModel with minnow's word embeddings."""

    def __init__(self, config, add_pooling_layer=True):
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=add_pooling_layer)
        self.bert.embeddings = MinnowEmbeddings(config)
        self.post_init()

    # Weight names are BERT's own (embeddings.*, encoder.*, pooler.*) under this model's prefix: load as
    # BertModel's do, whether the file says `bert.` or not.
    base_model_prefix = "bert"

    @property
    def embeddings(self):
        return self.bert.embeddings

    def get_input_embeddings(self):
        return getattr(self.bert.embeddings, "word_embeddings", None)

    def forward(self, *args, **kwargs):
        return self.bert(*args, **kwargs)


class MinnowForMaskedLM(MinnowPreTrainedModel):
    """The masked-LM model: the decoder is tied to the input embeddings as minnow ties it."""

    # forward returns the mean over its own masked tokens and ignores num_items_in_batch: without this,
    # Trainer (transformers 5) multiplies the logged loss by the number of processes under torchrun.
    accepts_loss_kwargs = False

    def __init__(self, config):
        super().__init__(config)
        # The pooler is kept (unused here) so that a saved model is a whole minnow model directory.
        self.bert = BertModel(config)
        self.bert.embeddings = MinnowEmbeddings(config)
        self.cls = nn.Module()
        self.cls.predictions = nn.Module()
        self.cls.predictions.transform = BertPredictionHeadTransform(config)
        self.cls.predictions.bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.post_init()

    @property
    def mlm_bias(self):
        return self.cls.predictions.bias

    def get_output_embeddings(self):
        return None

    def decode(self, h):
        """Logits over the vocabulary for transformed rows h (..., H)."""
        emb = self.bert.embeddings
        if emb.embedding_type == "hash":
            logits = h @ emb.hash_table.to(h.dtype).T
        elif emb.embedding_type == "lowrank":
            logits = (h @ emb.word_projection.weight) @ emb.word_embeddings.weight.T
        else:
            logits = h @ emb.word_embeddings.weight.T
        return logits + self.cls.predictions.bias

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                inputs_embeds=None, labels=None, masked_only=False, **kwargs):
        """Logits (B, T, V); with `masked_only` and labels, only the rows whose label is not -100 are decoded
        (logits (M, V)), as minnow's pre-training does: the (B, T, V) product is most of a step's work."""
        kwargs.pop("return_dict", None)
        kwargs.pop("num_items_in_batch", None)
        out = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                        position_ids=position_ids, inputs_embeds=inputs_embeds, return_dict=True, **kwargs)
        hidden = out.last_hidden_state
        if masked_only and labels is not None:
            chosen = labels != -100
            hidden, labels = hidden[chosen], labels[chosen]
        logits = self.decode(self.cls.predictions.transform(hidden))
        loss = None
        if labels is not None:
            loss = CrossEntropyLoss()(logits.view(-1, self.config.vocab_size), labels.view(-1))
        return MaskedLMOutput(loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)

    def _after_load(self, name_or_path, kwargs):
        super()._after_load(name_or_path, kwargs)
        # minnow keeps the masked-LM head (cls.predictions.*) in its own file.
        head = _resolve_file(name_or_path, "mlm_head.safetensors", kwargs)
        if not head:
            return
        from safetensors.torch import load_file

        tensors = load_file(head)
        own = dict(self.named_parameters())
        unknown = [k for k in tensors if k not in own]
        if unknown:
            raise ValueError(f"{head}: tensors this model does not have: {', '.join(unknown)}")
        with torch.no_grad():
            for k, v in tensors.items():
                if own[k].shape != v.shape:
                    raise ValueError(f"{head}: {k} is {tuple(v.shape)}, the model's is {tuple(own[k].shape)}")
                own[k].copy_(v)


class MinnowForSequenceClassification(MinnowPreTrainedModel):
    """Classification (or regression, num_labels 1) on the pooled [CLS], as minnow's task head."""

    def __init__(self, config):
        super().__init__(config)
        if getattr(config, "ngram", None):
            raise ValueError(
                "this is a minnow hybrid classifier (config.json `ngram`): its bag-of-n-grams path is not "
                "implemented in Python; run minnow export's ONNX files (onnxruntime, transformers.js) instead"
            )
        self.num_labels = config.num_labels
        self.bert = BertModel(config)
        self.bert.embeddings = MinnowEmbeddings(config)
        dropout = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                inputs_embeds=None, labels=None, **kwargs):
        kwargs.pop("return_dict", None)
        out = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                        position_ids=position_ids, inputs_embeds=inputs_embeds, return_dict=True, **kwargs)
        logits = self.classifier(self.dropout(out.pooler_output))
        loss = None
        if labels is not None:
            problem = self.config.problem_type or (
                "regression" if self.num_labels == 1 else "single_label_classification"
            )
            if problem == "regression":
                loss = MSELoss()(logits.squeeze(-1), labels.squeeze(-1).to(logits.dtype))
            elif problem == "single_label_classification":
                loss = CrossEntropyLoss()(logits.view(-1, self.num_labels), labels.view(-1))
            else:
                loss = BCEWithLogitsLoss()(logits, labels.to(logits.dtype))
        return SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=out.hidden_states,
                                        attentions=out.attentions)


__all__ = [
    "MinnowPreTrainedModel",
    "MinnowModel",
    "MinnowForMaskedLM",
    "MinnowForSequenceClassification",
    "hash_embedding_table",
]
