/** The option tables: ranges, choices, negative numbers, stray arguments, and option names as types. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UserError } from '../util/errors.js';
import { choice, command, flag, num, parse, str } from './args.js';

const spec = command({
  name: 'demo',
  summary: 'a demo command',
  usage: 'minnow demo',
  options: {
    lr: { type: 'string', value: 'X', help: 'rate', default: '1e-3', number: { above: 0 } },
    dropout: { type: 'string', value: 'P', help: 'p', number: { min: 0, below: 1 } },
    epochs: { type: 'string', value: 'N', help: 'n', default: '3', number: { int: true, min: 1 } },
    decay: { type: 'string', value: 'K', help: 'k', default: 'linear', choices: ['linear', 'cosine'] },
    json: { type: 'boolean', help: 'json' },
  },
});

const fails = (argv: string[], re: RegExp) =>
  assert.throws(
    () => parse(spec, argv),
    (e: Error) => e instanceof UserError && re.test(e.message),
  );

describe('option tables', () => {
  test('defaults, values and flags come back typed', () => {
    const p = parse(spec, ['--dropout', '0.1', '--json']);
    assert.equal(num(p, 'lr'), 1e-3);
    assert.equal(num(p, 'dropout'), 0.1);
    assert.equal(num(p, 'epochs'), 3);
    assert.equal(choice(p, 'decay', ['linear', 'cosine'] as const), 'linear');
    assert.equal(flag(p, 'json'), true);
    assert.equal(str(p, 'dropout'), '0.1');
    // @ts-expect-error: a misspelt option name does not compile
    assert.equal(str(p, 'dropuot'), undefined);
    // @ts-expect-error: a boolean option is not read as text
    str(p, 'json');
  });

  test('explicit: the options the command line gave, not those set by their default', () => {
    const p = parse(spec, ['--dropout', '0.1', '--json', '--epochs=3', '--lr', '1e-3']);
    assert.deepEqual([...p.explicit].sort(), ['dropout', 'epochs', 'json', 'lr']);
    assert.equal(num(p, 'epochs'), 3);
    const q = parse(spec, []);
    assert.equal(q.explicit.size, 0);
    assert.equal(num(q, 'epochs'), 3); // the same value, from the default
  });

  test('every range is checked at parse time, with the flag and the bound in the message', () => {
    fails(['--dropout', '1'], /^--dropout: must be < 1, got 1$/);
    fails(['--lr', '0'], /^--lr: must be > 0, got 0$/);
    fails(['--epochs', '2.5'], /^--epochs: must be an integer, got 2.5$/);
    fails(['--epochs', 'x'], /^--epochs: expected a number, got "x"$/);
    fails(['--decay', 'step'], /^--decay: expected linear or cosine, got "step"$/);
  });

  test('a negative number is a value, not an option: it gets the range message', () => {
    fails(['--lr', '-1'], /^--lr: must be > 0, got -1$/);
    fails(['--dropout', '-.5'], /^--dropout: must be >= 0, got -.5$/);
    fails(['--epochs', '-3'], /^--epochs: must be >= 1, got -3$/);
  });

  test('stray arguments and unknown flags are refused in one line', () => {
    fails(['oops'], /^demo: unexpected argument "oops"/);
    fails(['--nope'], /^demo: Unknown option '--nope'/);
  });
});
