/**
 * Command-line parsing shared by every command: node:util parseArgs driven by one typed option table per
 * command. The table gives `--help`, the defaults, the allowed range of every numeric flag and the choices
 * of every enumerated one, all checked before a command runs. Option names are types: `str(p, 'lr')` on a
 * command without --lr does not compile.
 */
import { parseArgs } from 'node:util';
import { UserError } from '../util/errors.js';
import { getPath, type NumberRule, type Setting, type SettingTable, setPath } from '../util/settings.js';

export type { NumberRule };

export interface OptionSpec {
  type: 'string' | 'boolean';
  help: string;
  default?: string | boolean;
  /** In --help, for a flag without a fixed default: how the command chooses the value when it is absent. */
  defaultText?: string;
  short?: string;
  /** Shown in --help as the value placeholder, e.g. N or DIR. */
  value?: string;
  /** The value is a number in this range. */
  number?: NumberRule;
  /** The value is one of these words. */
  choices?: readonly string[];
  /** The config field the flag sets (a dotted path), for options made from a setting table. */
  field?: string;
}

export type Options = Record<string, OptionSpec>;

export interface CommandSpec<O extends Options = Options> {
  name: string;
  summary: string;
  usage: string;
  options: O;
  positionals?: string; // description of positional arguments; none are accepted without it
  details?: string; // longer explanation shown in --help
}

/** A command's spec with its option names kept as types (so `str(p, 'lrr')` fails to compile). */
export function command<const O extends Options>(c: CommandSpec<O>): CommandSpec<O> {
  return c;
}

/** A group of options shared by several commands, names kept as types. */
export function options<const O extends Options>(o: O): O {
  return o;
}

type ValueOf<S> = S extends { type: 'boolean' } ? boolean : string;
export type StringOption<O> = { [K in keyof O]: O[K] extends { type: 'string' } ? K : never }[keyof O] &
  string;
export type BooleanOption<O> = { [K in keyof O]: O[K] extends { type: 'boolean' } ? K : never }[keyof O] &
  string;

export interface Parsed<O extends Options = Options> {
  spec: CommandSpec<O>;
  values: { [K in keyof O]?: ValueOf<O[K]> };
  positionals: string[];
  help: boolean;
  /** The options given on the command line (not those set by their default). */
  explicit: ReadonlySet<string>;
}

export function helpText(c: CommandSpec): string {
  const lines = [`minnow ${c.name}: ${c.summary}`, '', `usage: ${c.usage}`, ''];
  if (c.positionals) lines.push(c.positionals, '');
  if (c.details) lines.push(c.details, '');
  lines.push('options:');
  const entries = Object.entries({
    ...c.options,
    help: { type: 'boolean', help: 'show this help' } as OptionSpec,
  });
  for (const [name, o] of entries) {
    const flag = `--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const def =
      o.default !== undefined && o.type === 'string'
        ? ` (default: ${o.default})`
        : o.defaultText
          ? ` (default: ${o.defaultText})`
          : '';
    lines.push(`  ${flag.padEnd(28)} ${o.help}${def}`);
  }
  return lines.join('\n');
}

/** A flag value that starts with '-' but is a number ("-1", "-.5", "-1e-3", "-Infinity"), not an option. */
const NEGATIVE_NUMBER = /^-(\d|\.\d|inf|nan)/i;

/**
 * `--lr -1` would be refused by parseArgs as "ambiguous" before the range check could say what is wrong:
 * a negative number after a string option is joined to it (`--lr=-1`).
 */
function joinNegativeValues(c: CommandSpec, argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    const next = argv[i + 1];
    if (name && c.options[name]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** The number a flag's text stands for, with a one-line error naming the flag and the allowed range. */
export function checkNumber(name: string, raw: string, r: NumberRule): number {
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(n)) throw new UserError(`--${name}: expected a number, got "${raw}"`);
  const fail = (what: string) => new UserError(`--${name}: must be ${what}, got ${raw}`);
  if (r.int && !Number.isInteger(n)) throw fail('an integer');
  if (r.min !== undefined && n < r.min) throw fail(`>= ${r.min}`);
  if (r.max !== undefined && n > r.max) throw fail(`<= ${r.max}`);
  if (r.above !== undefined && n <= r.above) throw fail(`> ${r.above}`);
  if (r.below !== undefined && n >= r.below) throw fail(`< ${r.below}`);
  return n;
}

function checkChoice(name: string, raw: string, choices: readonly string[]): void {
  if (!choices.includes(raw))
    throw new UserError(`--${name}: expected ${choices.join(' or ')}, got "${raw}"`);
}

export function parse<O extends Options>(c: CommandSpec<O>, argv: string[]): Parsed<O> {
  const table: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [k, o] of Object.entries(c.options)) {
    table[k] = { type: o.type };
    if (o.short) table[k].short = o.short;
    if (o.default !== undefined) table[k].default = o.default;
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  let explicit: Set<string>;
  try {
    const r = parseArgs({
      args: joinNegativeValues(c, argv),
      options: table,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
    ({ values, positionals } = r);
    explicit = new Set(r.tokens.flatMap((t) => (t.kind === 'option' ? [t.name] : [])));
  } catch (e) {
    throw new UserError(`${c.name}: ${(e as Error).message.split('\n')[0]} (see minnow ${c.name} --help)`);
  }
  const help = !!values.help;
  if (!help) {
    if (!c.positionals && positionals.length)
      throw new UserError(
        `${c.name}: unexpected argument "${positionals[0]}" (options start with --; see minnow ${c.name} --help)`,
      );
    for (const [k, o] of Object.entries(c.options)) {
      const v = values[k];
      if (typeof v !== 'string') continue;
      if (o.number) checkNumber(k, v, o.number);
      if (o.choices) checkChoice(k, v, o.choices);
    }
  }
  return { spec: c, values: values as Parsed<O>['values'], positionals, help, explicit };
}

/** A string flag's value (or its default), undefined when absent. */
export function str<O extends Options>(p: Parsed<O>, name: StringOption<O>): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A string flag that must be given. */
export function required<O extends Options>(p: Parsed<O>, name: StringOption<O>): string {
  const v = str(p, name);
  if (v === undefined) {
    const o = p.spec.options[name];
    throw new UserError(`${p.spec.name}: --${name} ${o.value ?? 'VALUE'} is required`);
  }
  return v;
}

export function flag<O extends Options>(p: Parsed<O>, name: BooleanOption<O>): boolean {
  return p.values[name] === true;
}

/** Whether the flag is set (given, or defaulted by the table). */
export function given<O extends Options>(p: Parsed<O>, name: keyof O & string): boolean {
  const v = p.values[name];
  return v !== undefined && (v as unknown) !== false;
}

/**
 * A numeric flag's value, checked against its rule (the option table's, or `rule`); `fallback` when the
 * flag is absent and has no default.
 */
export function num<O extends Options>(
  p: Parsed<O>,
  name: StringOption<O>,
  fallback?: number,
  rule?: NumberRule,
): number {
  const raw = str(p, name);
  const r = rule ?? p.spec.options[name].number ?? {};
  if (raw === undefined) {
    if (fallback === undefined) throw new UserError(`--${name}: expected a number`);
    return checkNumber(name, String(fallback), r);
  }
  return checkNumber(name, raw, r);
}

/** An optional numeric flag: undefined when absent. */
export function optionalNum<O extends Options>(p: Parsed<O>, name: StringOption<O>): number | undefined {
  return str(p, name) === undefined ? undefined : num(p, name);
}

/** An enumerated flag's value (checked against the table's choices at parse time). */
export function choice<O extends Options, C extends string>(
  p: Parsed<O>,
  name: StringOption<O>,
  choices: readonly C[],
  fallback?: C,
): C {
  const v = str(p, name) ?? fallback;
  if (v === undefined) throw new UserError(`--${name}: expected ${choices.join(' or ')}`);
  checkChoice(name, v, choices);
  return v as C;
}

type SettingOption<S extends Setting> = OptionSpec & {
  type: S extends { boolean: true } ? 'boolean' : 'string';
};
/** The options of a setting table, keyed by their flags. */
export type SettingOptions<T extends SettingTable> = { [K in keyof T as T[K]['flag']]: SettingOption<T[K]> };

/**
 * The option table of a recipe's settings (util/settings.ts): each flag with its field, range, choices and,
 * given `defaults` (the recipe's DEFAULT_* object), its default; `prefix` goes before every help text.
 */
export function settingOptions<const T extends SettingTable>(
  table: T,
  defaults?: object,
  prefix = '',
): SettingOptions<T> {
  const out: Record<string, OptionSpec> = {};
  for (const [field, s] of Object.entries(table)) {
    const d = defaults && s.defaultText === undefined && !s.boolean ? getPath(defaults, field) : undefined;
    out[s.flag] = {
      type: s.boolean ? 'boolean' : 'string',
      help: prefix + s.help,
      ...(s.value !== undefined && { value: s.value }),
      ...(s.number && { number: s.number }),
      ...(s.choices && { choices: s.choices }),
      ...(d !== undefined && { default: String(d) }),
      ...(s.defaultText !== undefined && { defaultText: s.defaultText }),
      field,
    };
  }
  return out as SettingOptions<T>;
}

/**
 * The config a command line asks for: a deep copy of `base` (the recipe's defaults, or a config file's
 * values) with each flag of the table that is set (given, or defaulted by the option table) read into its
 * field, checked against its range or choices.
 */
export function configOf<C extends object>(
  p: { values: Partial<Record<string, string | boolean>> },
  table: SettingTable,
  base: C,
): C {
  const c = structuredClone(base) as Record<string, unknown>;
  for (const [field, s] of Object.entries(table)) {
    const v = p.values[s.flag];
    if (v === undefined) continue;
    if (typeof v === 'boolean') {
      if (v) setPath(c, field, true);
      continue;
    }
    if (s.choices) checkChoice(s.flag, v, s.choices);
    setPath(c, field, s.number ? checkNumber(s.flag, v, s.number) : v);
  }
  return c as C;
}
