/**
 * The embedding variants the experiment scripts compare: a name, the `minnow pretrain|finetune` flags that
 * create the model, what it is. A name that is not listed here is a plain preset (`--preset NAME`).
 */
export interface Variant {
  name: string;
  flags: string[];
  what: string;
  layers?: number;
}

/** A 1-layer hash variant: uno-eelbert with one `--hash` setting. */
const hash = (name: string, setting: string, what: string): Variant => ({
  name,
  flags: ['--preset', 'uno-eelbert', '--hash', setting],
  what,
});
/** uno-lowrank with k-wide codes. */
const lowrank = (k: number): Variant => ({
  name: `lowrank-k${k}`,
  flags: ['--preset', 'uno-lowrank', '--lowrank-dim', String(k)],
  what: `learned V x ${k} codes`,
});

export const VARIANTS: Variant[] = [
  { name: 'uno-eelbert', flags: ['--preset', 'uno-eelbert'], what: 'hash, 1-3 grams (the default)' },
  hash('hash-boundaries', 'boundaries=true', 'hash with word-start markers'),
  hash('hash-whole', 'wholeToken=0.25', 'hash + whole-token share 0.25'),
  hash('hash-projection', 'projection=true', 'hash + trainable H x H projection'),
  lowrank(2),
  lowrank(4),
  { name: 'lowrank-k8', flags: ['--preset', 'uno-lowrank'], what: 'learned V x 8 codes (uno-lowrank)' },
  { name: 'eelbert-tiny', flags: ['--preset', 'eelbert-tiny'], what: 'hash, 2 layers', layers: 2 },
  { name: 'bert-tiny', flags: ['--preset', 'bert-tiny'], what: 'V x 128 table, 2 layers', layers: 2 },
];

/** The flags that create model `name`: a listed variant's, else `--preset name`. */
export const modelFlags = (name: string): string[] =>
  VARIANTS.find((v) => v.name === name)?.flags ?? ['--preset', name];
