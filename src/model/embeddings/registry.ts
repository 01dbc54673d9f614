/**
 * The embedding kinds, by config.json's `embedding_type`: the one place that maps a config to its kind
 * (kind.ts says what a kind owns). A new kind is a module beside these and one line in KINDS.
 */
import { UserError } from '../../util/errors.js';
import { HASH } from './hash.js';
import type { DerivedWeight, EmbeddingConfig, EmbeddingFlag, EmbeddingKind } from './kind.js';
import { LOWRANK } from './lowrank.js';
import { TABLE } from './table.js';

/** The kinds minnow ships, in the order --help and messages list them. */
const KINDS = [TABLE, HASH, LOWRANK] as const;

const registered = new Map<string, EmbeddingKind>(KINDS.map((k) => [k.name, k]));

/** Add a kind (an extension, or a test's example kind); its name must be new. */
export function registerEmbeddingKind(k: EmbeddingKind): void {
  if (registered.has(k.name)) throw new Error(`embedding kind "${k.name}" is already registered`);
  registered.set(k.name, k);
}

/** Every registered kind. */
export function embeddingKinds(): EmbeddingKind[] {
  return [...registered.values()];
}

/** The kind of a config (one checked by validateEmbedding; an unknown name is a UserError). */
export function embeddingKind(c: Pick<EmbeddingConfig, 'embedding_type'>): EmbeddingKind {
  const k = registered.get(c.embedding_type);
  if (!k)
    throw new UserError(
      `embedding_type "${c.embedding_type}" is not one minnow knows (${[...registered.keys()].join(', ')})`,
    );
  return k;
}

/** Whether two configs embed words the same way (same kind: their MLM heads decode alike). */
export function sameEmbeddingKind(a: EmbeddingConfig, b: EmbeddingConfig): boolean {
  return embeddingKind(a) === embeddingKind(b);
}

/**
 * config.json's embedding: `embedding_type` (default 'table') must name a registered kind, whose fields
 * are checked and set on `c`; the fields of every other kind are removed. Errors name `source` and the field.
 */
export function validateEmbedding(
  raw: Record<string, unknown>,
  c: EmbeddingConfig,
  bad: (field: string, want: string) => never,
  source: string,
): void {
  const name = raw.embedding_type ?? TABLE.name;
  const kind = typeof name === 'string' ? registered.get(name) : undefined;
  if (!kind)
    bad(
      'embedding_type',
      `${[...registered.keys()].map((k) => JSON.stringify(k)).join(' or ')} (minnow embeddings)`,
    );
  c.embedding_type = kind.name;
  for (const other of registered.values())
    if (other !== kind) for (const f of other.fields) delete (c as unknown as Record<string, unknown>)[f];
  kind.validate(raw, c, bad, source);
}

/** Whether the kind has a weight computed at load, which a compact export leaves for the runtime. */
export function hasDerivedWeight(c: EmbeddingConfig): boolean {
  return embeddingKind(c).derived !== undefined;
}

/** The name of the weight computed at load, if the kind has one. */
export function derivedWeightName(c: EmbeddingConfig): string | undefined {
  return embeddingKind(c).derived?.name;
}

/**
 * The weight a compact model leaves out, computed from the vocabulary (the runtime's part of the kind;
 * browser-safe). A kind without one cannot run compact: a UserError naming `source`.
 */
export function derivedWeight(
  c: EmbeddingConfig,
  vocabulary: readonly string[],
  source: string,
): DerivedWeight {
  const kind = registered.get(c.embedding_type);
  if (!kind?.derived) {
    const computed = embeddingKinds()
      .filter((k) => k.derived)
      .map((k) => `"${k.name}"`);
    throw new UserError(
      `${source}: a compact model needs an embedding computed at load (embedding_type ${computed.join(' or ')}), not ${JSON.stringify(c.embedding_type ?? 'table')}`,
    );
  }
  return kind.derived.compute(c, vocabulary, source);
}

/** The names of the shipped kinds' CLI flags (typed, so the commands that take them keep typed options). */
export type EmbeddingFlagName = Extract<(typeof KINDS)[number], { flag: unknown }>['flag']['name'];

/** The kinds' CLI flags, in the kinds' order. */
export function embeddingFlags(): EmbeddingFlag[] {
  return embeddingKinds().flatMap((k) => (k.flag ? [k.flag] : []));
}

/**
 * Apply an embedding flag to a new model's config `c` (a preset): the flag's kind must be the preset's,
 * else a UserError naming the flag, what the preset has and the presets of the flag's kind.
 */
export function applyEmbeddingFlag(
  c: EmbeddingConfig,
  flag: string,
  text: string,
  preset: { name: string; all: Record<string, EmbeddingConfig> },
): void {
  const owner = embeddingKinds().find((k) => k.flag?.name === flag);
  if (!owner) throw new Error(`no embedding kind has the flag --${flag}`);
  const kind = embeddingKind(c);
  if (kind !== owner) {
    const presets = Object.keys(preset.all).filter((n) => embeddingKind(preset.all[n]) === owner);
    throw new UserError(
      `--${flag}: preset ${preset.name} has ${kind.noun}, not ${owner.noun} (${owner.name} presets: ${presets.join(', ')})`,
    );
  }
  owner.flag!.apply(c, text);
}
