/**
 * What a fine-tuned model's head predicts, read from its config.json: regression, or classes in index
 * order with the values they have in the task's data files and the names they are shown by. Data is
 * always read in the model's classes, so index k means the same class to the model and to the metrics;
 * a task the model was not fine-tuned for is refused.
 */
import { glueTask } from '../data/glue.js';
import { classNames, type DataSource, isGlue, readTask, type TaskData } from '../data/task.js';
import type { BertConfig } from '../model/config.js';
import { UserError } from '../util/errors.js';

export interface TaskHead {
  numLabels: number;
  regression: boolean;
  /** Class values as they appear in data files, index order; null for regression. */
  values: string[] | null;
  /** Class names to show (id2label), index order; null for regression. */
  names: string[] | null;
  /** The task the head was fine-tuned on, when config.json records it. */
  task?: string;
  /** Whether the model reads text pairs; undefined when config.json does not say (e.g. transformers). */
  pairs?: boolean;
}

/** minnow's record of whether a head was trained on pairs (config.json `minnow_text_pairs`). */
type WithPairs = BertConfig & { minnow_text_pairs?: boolean; label2id?: Record<string, number> };

function recordedPairs(c: HeadFields): boolean | undefined {
  const v = (c as WithPairs).minnow_text_pairs;
  if (typeof v === 'boolean') return v;
  const ft = c.finetuning_task;
  return ft && isGlue(ft) ? glueTask(ft).pair !== undefined : undefined;
}

/** The fields of config.json that describe a task head (Hugging Face's names; any kind of model). */
export type HeadFields = Pick<BertConfig, 'num_labels' | 'problem_type' | 'id2label' | 'finetuning_task'>;

/** The model's head, or a one-line error when it has none. */
export function taskHead(c: HeadFields, source: string): TaskHead {
  const n = c.num_labels;
  if (!n) throw new UserError(`${source}: no task head (num_labels); fine-tune the model first`);
  const regression = c.problem_type === 'regression';
  const pairs = recordedPairs(c);
  if (regression)
    return { numLabels: n, regression, values: null, names: null, task: c.finetuning_task, pairs };
  const names = Array.from({ length: n }, (_, i) => c.id2label?.[String(i)] ?? String(i));
  let values = names;
  const ft = c.finetuning_task;
  if (ft && isGlue(ft)) {
    // minnow writes GLUE's readable names (negative/positive); the files hold the task's own values (0/1).
    const spec = glueTask(ft);
    if (spec.labels && spec.labels.length === n) values = [...spec.labels];
  } else if (names.every((x, i) => x === `LABEL_${i}`)) {
    // transformers' default names: class k is the label "k" in a data file.
    values = names.map((_, i) => String(i));
  }
  return { numLabels: n, regression, values, names, task: ft, pairs };
}

/** The head of a new fine-tuning run on `data`: GLUE classes get their readable names. */
export function headFor(data: TaskData): TaskHead {
  const pairs = data.examples.some((e) => e.pair !== undefined);
  if (data.labels === null)
    return { numLabels: 1, regression: true, values: null, names: null, task: data.task, pairs };
  return {
    numLabels: data.labels.length,
    regression: false,
    values: [...data.labels],
    names: classNames(data.task, data.labels),
    task: data.task,
    pairs,
  };
}

/** Write a head into a config (Hugging Face's fields). */
export function setHead(c: HeadFields, h: TaskHead): void {
  c.num_labels = h.numLabels;
  c.problem_type = h.regression ? 'regression' : 'single_label_classification';
  if (h.names) {
    c.id2label = Object.fromEntries(h.names.map((l, i) => [String(i), l]));
    (c as WithPairs).label2id = Object.fromEntries(h.names.map((l, i) => [l, i]));
  }
  if (h.task) c.finetuning_task = h.task;
  if (h.pairs !== undefined) (c as WithPairs).minnow_text_pairs = h.pairs;
}

const same = (a: string, b: string) =>
  !isGlue(a) || !isGlue(b) ? a === b : glueTask(a).dir === glueTask(b).dir;

/**
 * Read `src` for a model with head `h`: the task must be the one the head was trained on (GLUE: the same
 * task; MNLI's matched and mismatched sets count as one), classification vs regression must agree, and the
 * classes are the model's (a label the model does not know is an error naming the row).
 */
export function readTaskFor(
  h: TaskHead,
  src: DataSource,
  split: 'train' | 'dev' | 'test',
  who: string,
): TaskData {
  const glue = !src.textColumn;
  if (h.task && (glue || isGlue(h.task)) && !same(h.task, src.task))
    throw new UserError(
      `${who}: fine-tuned on ${h.task}, not ${src.task}: its classes mean ${h.task}'s labels (fine-tune it on ${src.task} first)`,
    );
  if (glue) {
    const spec = glueTask(src.task);
    if ((spec.labels === null) !== h.regression)
      throw new UserError(
        `${who}: a ${h.regression ? 'regression' : 'classification'} head cannot be evaluated on ${spec.name} (${spec.labels === null ? 'regression' : 'classification'})`,
      );
    if (spec.labels && spec.labels.length !== h.numLabels)
      throw new UserError(`${who}: ${h.numLabels} classes, but ${spec.name} has ${spec.labels.length}`);
    return samePairs(h, readTask(src, split), who);
  }
  if (!!src.regression !== h.regression)
    throw new UserError(
      `${who}: a ${h.regression ? 'regression' : 'classification'} head; ${h.regression ? 'give --regression for numeric labels' : 'drop --regression'}`,
    );
  return samePairs(h, readTask({ ...src, labels: h.values ?? undefined }, split), who);
}

/** A model fine-tuned on pairs is not scored on single texts (predict refuses them too), nor the reverse. */
function samePairs(h: TaskHead, data: TaskData, who: string): TaskData {
  if (h.pairs === undefined || data.examples.length === 0) return data;
  const pairs = data.examples.some((e) => e.pair !== undefined);
  if (h.pairs && !pairs)
    throw new UserError(
      `${who}: fine-tuned on text pairs, but ${data.file} has single texts; give --text-pair-column NAME`,
    );
  if (!h.pairs && pairs)
    throw new UserError(
      `${who}: fine-tuned on single texts, but ${data.file} has pairs; drop --text-pair-column (or fine-tune on pairs)`,
    );
  return data;
}
