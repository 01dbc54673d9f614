/**
 * A recipe's settings as data, each declared once: the config field it sets (a dotted path, e.g.
 * `masking.probability`), its flag, help, range or choices. The values stay in the recipe's DEFAULT_*
 * object. From one table the CLI builds its option table (defaults from DEFAULT_*), the config a command
 * line asks for, and the resume check's names (settingNames: a refused --resume names the flag).
 */

/** The range of a numeric setting: checked for the default and for every given value. */
export interface NumberRule {
  int?: boolean;
  min?: number; // >= min
  max?: number; // <= max
  above?: number; // > above
  below?: number; // < below
}

export interface Setting {
  /** The flag, without its dashes. */
  flag: string;
  help: string;
  /** Shown in --help as the value placeholder, e.g. N or X. */
  value?: string;
  /** The value is a number in this range. */
  number?: NumberRule;
  /** The value is one of these words. */
  choices?: readonly string[];
  /** A switch: present means true. */
  boolean?: true;
  /** In --help, where the default is no fixed value: how the recipe chooses it when the flag is absent. */
  defaultText?: string;
  /** The path this setting has in a checkpoint's recipe, where not the field's own (e.g. `optim.lr`). */
  recipe?: string;
  /** How a refused --resume names it, where not `--flag` (e.g. `warmup updates (--warmup)`). */
  recipeName?: string;
}

/** Field path -> its setting. */
export type SettingTable = Readonly<Record<string, Setting>>;

/** A table with its flag names kept as types (so the CLI's `str(p, 'lr')` is checked). */
export function settings<const T extends SettingTable>(t: T): T {
  return t;
}

/** Only the named fields of a table. */
export function pick<const T extends SettingTable, const K extends keyof T & string>(
  t: T,
  ...fields: K[]
): Pick<T, K> {
  return Object.fromEntries(fields.map((f) => [f, t[f]])) as Pick<T, K>;
}

/** Checkpoint recipe path -> how a refused --resume names it (`--seed`), for every setting of the table. */
export function settingNames(t: SettingTable): Record<string, string> {
  return Object.fromEntries(
    Object.entries(t).map(([field, s]) => [s.recipe ?? field, s.recipeName ?? `--${s.flag}`]),
  );
}

/** The value at a dotted path (`masking.probability`), undefined where any step is missing. */
export function getPath(o: unknown, path: string): unknown {
  let x = o;
  for (const k of path.split('.')) {
    if (x === null || typeof x !== 'object') return undefined;
    x = (x as Record<string, unknown>)[k];
  }
  return x;
}

/** Set the value at a dotted path, making the objects on the way (a copy of `o` is the caller's to make). */
export function setPath(o: Record<string, unknown>, path: string, v: unknown): void {
  const keys = path.split('.');
  let x = o;
  for (const k of keys.slice(0, -1)) {
    if (x[k] === null || typeof x[k] !== 'object') x[k] = {};
    x = x[k] as Record<string, unknown>;
  }
  x[keys[keys.length - 1]] = v;
}

/**
 * Every leaf path of a settings object (`{ masking: { probability: 0.15 } }` -> `masking.probability`);
 * arrays are leaves.
 */
export function leafPaths(o: unknown, prefix = ''): string[] {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return [prefix];
  return Object.entries(o).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}
