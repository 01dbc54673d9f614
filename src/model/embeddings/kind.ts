/**
 * What an embedding kind is: the one module that knows how a model turns word-piece ids into its word
 * vectors (table, EELBERT hash, low-rank codes, ...). The rest of minnow asks the kind, through the
 * registry (registry.ts), instead of checking `embedding_type`:
 *
 *   graph       words(): the (B, T, E) word vectors of the input ids, inside bert.ts' embedding sum
 *   MLM         tiedDecoder(): how the masked-LM output layer ties to the input embedding
 *   config      fields and validate(): its config.json fields, checked with errors naming the field
 *   export      which weights are lookup tables (Weights.table: gathered by id, int8 by row) and which are
 *               dense (Weights.get: multiplied), chosen where the graph uses them, never from a name
 *   runtime     derived: a table computed from the vocabulary at load (never stored); a compact export
 *               declares it as a graph input that minnow's runtime fills (browser-safe)
 *   CLI         flag: the `--preset` flag that sets its fields; noun and describe() for messages and `info`
 *   transformers plainBert: whether Hugging Face's BERT reads its weights without minnow's remote code
 *
 * Nothing here imports config.ts (config.ts validates through the registry), so a kind sees the config
 * as `EmbeddingConfig`: the fields every kind may read, plus its own, which it reads through its own type.
 */
import type { Value } from '../../graph/graph.js';
import type { Weights } from '../../runtime/weights.js';

/** The config fields an embedding kind reads (BertConfig has them); a kind's own fields come on top. */
export interface EmbeddingConfig {
  embedding_type: string;
  vocab_size: number;
  hidden_size: number;
  /** Width of the embeddings when it differs from hidden_size (ELECTRA's generator); see embeddingWidth. */
  embedding_size?: number;
}

/** Width of the embedding tables and their LayerNorm (hidden_size unless embedding_size says otherwise). */
export function embeddingWidth(c: EmbeddingConfig): number {
  return c.embedding_size ?? c.hidden_size;
}

/** The Hugging Face name of the word embedding weight: BERT's table, a hash table, or low-rank codes. */
export const WORD_EMBEDDINGS = 'bert.embeddings.word_embeddings.weight';

/** A weight computed from the vocabulary at load (never stored or trained): its values and shape. */
export interface DerivedWeight {
  shape: number[];
  values: Float32Array;
}

/** A string flag of `pretrain`, `finetune` and `distill` that sets a new (--preset) model's kind fields. */
export interface EmbeddingFlag {
  name: string; // without the dashes
  value: string; // placeholder in --help
  help: string;
  /** Set the kind's fields of the preset's config `c` from the flag's text (UserError naming --name). */
  apply(c: EmbeddingConfig, text: string): void;
}

export interface EmbeddingKind {
  /** config.json's `embedding_type`. */
  readonly name: string;
  /** What a model of this kind has, for messages: 'a lookup table', 'learned low-rank codes'. */
  readonly noun: string;
  /** Its own config.json fields (validate sets them; a config of another kind never carries them). */
  readonly fields: readonly string[];
  /**
   * Check the kind's fields of the parsed config.json `raw` and set them, normalised, on `c`. `bad(field,
   * want)` throws the one-line error `SOURCE: field "F" must be WANT, got VALUE`; `source` names the file.
   */
  validate(
    raw: Record<string, unknown>,
    c: EmbeddingConfig,
    bad: (field: string, want: string) => never,
    source: string,
  ): void;
  /** The line `minnow info` prints; `derivedValues`: the values the model computes at load. */
  describe(c: EmbeddingConfig, derivedValues: number): string;
  /**
   * The word vectors (B, T, E) of `ids` (B, T) int64, E = embeddingWidth(c). A kind whose words are a
   * Gemm on rows builds them as (N, E) and hands them to `rows`, which reshapes them to (B, T, E).
   */
  words(w: Weights, c: EmbeddingConfig, ids: Value, rows: (flat: Value) => Value): Value;
  /**
   * The masked-LM decoder tied to the input embedding, as the two factors of logits = h table^T for rows
   * h (M, E) of the MLM transform: what h becomes and the table it meets.
   */
  tiedDecoder(w: Weights, c: EmbeddingConfig, h: Value): { h: Value; table: Value };
  /**
   * A weight computed from the vocabulary at load (declared frozen and derived by `words`): never saved,
   * so a model file may lack it, and a compact export leaves it out for the runtime to compute. Browser-safe.
   */
  readonly derived?: {
    name: string;
    compute(c: EmbeddingConfig, vocabulary: readonly string[], source: string): DerivedWeight;
  };
  /**
   * Whether Hugging Face's plain BERT code reads the kind's weights as they are (a stored (V, H) word
   * table); other kinds' directories carry minnow's remote code (model/hf-remote.ts).
   */
  readonly plainBert?: boolean;
  /** The CLI flag that sets this kind's fields on a new model (--hash, --lowrank-dim). */
  readonly flag?: EmbeddingFlag;
}
