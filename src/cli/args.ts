/**
 * Command-line parsing shared by every command: node:util parseArgs with typed options, `--help`
 * generated from the same table, and one-line UserErrors for unknown flags or bad numbers.
 */
import { parseArgs } from 'node:util';
import { UserError } from '../util/errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  help: string;
  default?: string | boolean;
  short?: string;
  /** Shown in --help as the value placeholder, e.g. N or DIR. */
  value?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  positionals?: string; // description of positional arguments, if any
}

export function helpText(c: CommandSpec): string {
  const lines = [`minnow ${c.name}: ${c.summary}`, '', `usage: ${c.usage}`, ''];
  if (c.positionals) lines.push(c.positionals, '');
  lines.push('options:');
  const entries = Object.entries({
    ...c.options,
    help: { type: 'boolean', help: 'show this help' } as OptionSpec,
  });
  for (const [name, o] of entries) {
    const flag = `--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const def = o.default !== undefined && o.type === 'string' ? ` (default: ${o.default})` : '';
    lines.push(`  ${flag.padEnd(28)} ${o.help}${def}`);
  }
  return lines.join('\n');
}

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  help: boolean;
}

export function parse(c: CommandSpec, argv: string[]): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }> =
    {
      help: { type: 'boolean', short: 'h' },
    };
  for (const [k, o] of Object.entries(c.options)) {
    options[k] = { type: o.type };
    if (o.short) options[k].short = o.short;
    if (o.default !== undefined) options[k].default = o.default;
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as Parsed['values'], positionals, help: !!values.help };
  } catch (e) {
    throw new UserError(`${c.name}: ${(e as Error).message.split('\n')[0]} (see minnow ${c.name} --help)`);
  }
}

/** A numeric flag value, with a clear error naming the flag. */
export function num(p: Parsed, name: string, opts: { int?: boolean; min?: number } = {}): number {
  const raw = p.values[name];
  const n = Number(raw);
  if (raw === undefined || typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) {
    throw new UserError(`--${name}: expected a number, got "${raw}"`);
  }
  if (opts.int && !Number.isInteger(n)) throw new UserError(`--${name}: expected an integer, got ${raw}`);
  if (opts.min !== undefined && n < opts.min)
    throw new UserError(`--${name}: must be >= ${opts.min}, got ${raw}`);
  return n;
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}
