/**
 * Fuzzing taught examples (`label | sentence` lines, from a file or the page): any text gives examples
 * whose labels are the head's classes (or finite numbers for a regression head), or a one-line UserError.
 */
import fc from 'fast-check';
import {
  anyText,
  check,
  expectUserErrorOrSuccess,
  fuzzTarget,
  type SomeFuzzTarget,
  textOver,
} from '../util/fuzzing.js';
import { parseTeachExamples } from './teach.js';

const HEADS: { id2label?: Record<number, string>; problem_type?: string }[] = [
  { id2label: { 0: 'negative', 1: 'positive' } },
  { id2label: { 0: 'a', 1: 'b', 2: 'c' } },
  { problem_type: 'regression' },
  {},
];

const text = fc.oneof(
  anyText(80),
  textOver(
    [
      'positive',
      'Negative',
      '1',
      '0',
      '2',
      '-1',
      '1e3',
      'NaN',
      ' | ',
      '|',
      '\t',
      '\n',
      ' ',
      'good film',
      '\r\n',
    ],
    40,
  ),
);

export const TEACH_FUZZ: SomeFuzzTarget[] = [
  fuzzTarget({
    name: 'teach: taught examples (label | sentence)',
    arbitrary: fc.tuple(text, fc.constantFrom(...HEADS)),
    predicate: ([content, head]) => {
      const out = expectUserErrorOrSuccess(() => parseTeachExamples(content, head, 'teach.txt'));
      if (!out.ok) return;
      const regression = (head as { problem_type?: string }).problem_type === 'regression';
      const classes = Object.keys((head as { id2label?: object }).id2label ?? {}).length;
      check(out.value.length > 0, 'no examples and no error');
      for (const e of out.value) {
        check(e.text.trim() !== '', 'an empty sentence');
        if (regression) check(Number.isFinite(e.label), () => `label ${e.label}`);
        else
          check(
            Number.isInteger(e.label) && e.label >= 0 && e.label < classes,
            () => `class ${e.label} of ${classes}`,
          );
      }
    },
  }),
];
