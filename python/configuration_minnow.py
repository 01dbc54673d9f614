"""Hugging Face configuration for minnow's BERT variants (transformers remote code).

minnow writes this file, with modeling_minnow.py, beside the config.json of every model whose embeddings
plain BERT cannot read: EELBERT hash embeddings (`embedding_type: "hash"`, no word table stored), learned
low-rank codes (`embedding_type: "lowrank"`, a (V, k) table and an (H, k) projection) and hybrids with a
bag-of-n-grams path (`ngram`). Their config.json says `"model_type": "minnow-bert"` and maps the Auto
classes here (`auto_map`), so

    AutoModelForSequenceClassification.from_pretrained(dir, trust_remote_code=True)

builds minnow's model, and without `trust_remote_code` transformers refuses the unknown model type instead
of loading BERT with random word embeddings. Table models keep `"model_type": "bert"`.

The fields are BERT's (Hugging Face names) plus minnow's, as minnow's src/model/config.ts reads them:
  embedding_type   "table", "hash" or "lowrank"
  hash_embedding   the hash function's settings (ngramMin, ngramMax, seed, partition, hash, boundaries,
                   wholeToken, projection), see modeling_minnow.hash_embedding_table
  lowrank_dim      k, the code size of a low-rank embedding
Self-contained: torch and transformers only.
"""

from transformers import PretrainedConfig

MODEL_TYPE = "minnow-bert"

HASH_DEFAULTS = {"ngramMin": 1, "ngramMax": 3, "seed": 0, "partition": "proportional", "hash": "murmur3"}


class MinnowConfig(PretrainedConfig):
    model_type = MODEL_TYPE

    def __init__(
        self,
        vocab_size=30522,
        hidden_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=512,
        hidden_act="gelu",
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=512,
        type_vocab_size=2,
        initializer_range=0.02,
        layer_norm_eps=1e-12,
        pad_token_id=0,
        classifier_dropout=None,
        embedding_type="hash",
        hash_embedding=None,
        lowrank_dim=None,
        ngram=None,
        **kwargs,
    ):
        kwargs.setdefault("tie_word_embeddings", False)  # the decoder reads the embeddings itself
        super().__init__(pad_token_id=pad_token_id, **kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.classifier_dropout = classifier_dropout
        # BertModel reads these; minnow's models are encoders.
        self.is_decoder = False
        self.add_cross_attention = False
        self.use_cache = False
        self.position_embedding_type = "absolute"
        if embedding_type not in ("table", "hash", "lowrank"):
            raise ValueError(f'embedding_type must be "table", "hash" or "lowrank", got {embedding_type!r}')
        self.embedding_type = embedding_type
        if embedding_type == "hash":
            hash_embedding = {**HASH_DEFAULTS, **(hash_embedding or {})}
        self.hash_embedding = hash_embedding
        if embedding_type == "lowrank" and lowrank_dim is None:
            lowrank_dim = 8
        self.lowrank_dim = lowrank_dim
        self.ngram = ngram


__all__ = ["MinnowConfig"]
