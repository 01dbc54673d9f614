/** The data flags shared by finetune, eval and predict. */
import type { DataSource } from '../data/task.js';
import { UserError } from '../util/errors.js';
import type { OptionSpec, Parsed } from './args.js';
import { str } from './args.js';

export const DATA_OPTIONS: Record<string, OptionSpec> = {
  task: {
    type: 'string',
    value: 'T',
    help: 'GLUE task (cola, sst2, mrpc, stsb, qqp, mnli, mnli-mm, qnli, rte, wnli) or a name for your own data',
  },
  data: {
    type: 'string',
    value: 'PATH',
    help: 'GLUE task folder or file; or your CSV/TSV/JSONL file (with --text-column)',
  },
  'text-column': { type: 'string', value: 'NAME', help: 'own data: column (or JSON key) with the text' },
  'text-pair-column': {
    type: 'string',
    value: 'NAME',
    help: 'own data: column with the second text of a pair',
  },
  'label-column': { type: 'string', value: 'NAME', help: 'own data: column with the label' },
  regression: { type: 'boolean', help: 'own data: labels are numbers to regress' },
  'skip-bad-rows': {
    type: 'boolean',
    help: 'skip malformed rows (reported) instead of stopping at the first',
  },
};

export function dataSource(p: Parsed, path = str(p, 'data')): DataSource {
  const task = str(p, 'task');
  if (!task)
    throw new UserError(
      '--task T is required (a GLUE task name, or a name for your own data with --text-column)',
    );
  if (!path) throw new UserError('--data PATH is required');
  return {
    task,
    data: path,
    textColumn: str(p, 'text-column'),
    textPairColumn: str(p, 'text-pair-column'),
    labelColumn: str(p, 'label-column') ?? (str(p, 'text-column') ? 'label' : undefined),
    regression: !!p.values.regression,
    skipBadRows: !!p.values['skip-bad-rows'],
  };
}
