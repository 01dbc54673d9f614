#!/usr/bin/env node
/**
 * The `minnow` command line. Each command lives in its own file and exports a CommandSpec and a run
 * function; errors the user can act on print one line and exit 2.
 */
import { fsUserError, UserError } from '../util/errors.js';
import type { CommandSpec, Parsed } from './args.js';
import { helpText, parse } from './args.js';
import * as augment from './augment.js';
import * as baseline from './baseline.js';
import * as bench from './bench.js';
import * as distill from './distill.js';
import * as evaluate from './eval.js';
import * as explainTree from './explain-tree.js';
import * as exporter from './export.js';
import * as finetune from './finetune.js';
import * as fit from './fit.js';
import * as hybrid from './hybrid.js';
import * as info from './info.js';
import * as predict from './predict.js';
import * as pretrain from './pretrain.js';
import * as serve from './serve.js';
import * as teach from './teach.js';

interface Command {
  // Each command's run takes its own typed Parsed; the table holds them all.
  spec: CommandSpec<any>;
  run(p: Parsed<any>): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  pretrain,
  baseline,
  fit,
  finetune,
  hybrid,
  teach,
  distill,
  augment,
  eval: evaluate,
  predict,
  export: exporter,
  'explain-tree': explainTree,
  serve,
  info,
  bench,
};

/**
 * Subcommands named in a usage line of the form `minnow bench (train-step | mlm-step) ...` (bare words:
 * `minnow pretrain (--preset NAME | --model DIR)` lists alternative options, not subcommands).
 */
function subcommands(spec: CommandSpec): string[] {
  const m = /^minnow \S+ \(([^)]*\|[^)]*)\)/.exec(spec.usage);
  const alternatives = m ? m[1].split('|').map((s) => s.trim()) : [];
  return alternatives.every((a) => /^[a-z][a-z0-9-]*$/.test(a)) ? alternatives : [];
}

/** One line per command; a command with subcommands lists them on the line below. */
function commandLine(spec: CommandSpec): string {
  const subs = subcommands(spec);
  if (subs.length === 0) return `  ${spec.name.padEnd(12)} ${spec.summary}`;
  // The summary's own parenthesised example gives way to the full list.
  const summary = spec.summary.replace(/\s*\([^)]*\)$/, '');
  return `  ${spec.name.padEnd(12)} ${summary}\n  ${''.padEnd(12)} subcommands: ${subs.join(', ')}`;
}

const USAGE = `minnow: tiny language models in TypeScript

usage: minnow <command> [options]     (minnow <command> --help for its options)

commands:
${Object.values(COMMANDS)
  .map((c) => commandLine(c.spec))
  .join('\n')}
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  if (name === '--version') {
    process.stdout.write('minnow 0.1.0\n');
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) throw new UserError(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
  const parsed = parse(cmd.spec, rest);
  if (parsed.help) {
    process.stdout.write(`${helpText(cmd.spec)}\n`);
    return 0;
  }
  await cmd.run(parsed);
  return 0;
}

// `minnow predict ... | head -1`: once the reader has gone, stop quietly, as Unix filters do (Node
// ignores SIGPIPE, so the write fails with EPIPE instead; unhandled, that is a stack trace).
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  process.stderr.write(`minnow: cannot write to stdout: ${e.message}\n`);
  process.exit(1);
});

// The same for stderr (`minnow finetune ... 2>&1 | head`): with nowhere left to report, end quietly.
process.stderr.on('error', (e: NodeJS.ErrnoException) => {
  process.exit(e.code === 'EPIPE' ? 0 : 1);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // A full disk, a read-only or missing directory, a directory given for a file: the user's to fix.
    e = fsUserError(e) ?? e;
    if (e instanceof UserError) {
      process.stderr.write(`minnow: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`minnow: internal error: ${(e as Error)?.stack ?? e}\n`);
      process.exitCode = 1;
    }
  },
);
