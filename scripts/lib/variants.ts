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

export const VARIANTS: Variant[] = [
  { name: 'uno-eelbert', flags: ['--preset', 'uno-eelbert'], what: 'hash, 1-3 grams (the default)' },
  {
    name: 'hash-boundaries',
    flags: ['--preset', 'uno-eelbert', '--hash', 'boundaries=true'],
    what: 'hash with word-start markers',
  },
  {
    name: 'hash-whole',
    flags: ['--preset', 'uno-eelbert', '--hash', 'wholeToken=0.25'],
    what: 'hash + whole-token share 0.25',
  },
  {
    name: 'hash-projection',
    flags: ['--preset', 'uno-eelbert', '--hash', 'projection=true'],
    what: 'hash + trainable H x H projection',
  },
  {
    name: 'lowrank-k2',
    flags: ['--preset', 'uno-lowrank', '--lowrank-dim', '2'],
    what: 'learned V x 2 codes',
  },
  {
    name: 'lowrank-k4',
    flags: ['--preset', 'uno-lowrank', '--lowrank-dim', '4'],
    what: 'learned V x 4 codes',
  },
  { name: 'lowrank-k8', flags: ['--preset', 'uno-lowrank'], what: 'learned V x 8 codes (uno-lowrank)' },
  { name: 'eelbert-tiny', flags: ['--preset', 'eelbert-tiny'], what: 'hash, 2 layers', layers: 2 },
  { name: 'bert-tiny', flags: ['--preset', 'bert-tiny'], what: 'V x 128 table, 2 layers', layers: 2 },
];

/** The flags that create model `name`: a listed variant's, else `--preset name`. */
export const modelFlags = (name: string): string[] =>
  VARIANTS.find((v) => v.name === name)?.flags ?? ['--preset', name];
