// The linear-time engine: the patterns that stall a backtracking engine answer in milliseconds,
// matches agree with RegExp on ordinary patterns, and what RE2 cannot run is refused with a reason.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LinearRegExp, UnsupportedRegexError, compileLinear, testLinear } from '../../src/webhook/linear-regex.js';

describe('compileLinear / testLinear', () => {
  const cases: { pattern: string; flags?: string; input: string; expected: boolean }[] = [
    { pattern: '^test', input: 'testing', expected: true },
    { pattern: '@example\\.com$', input: 'a@example.com', expected: true },
    { pattern: '@example\\.com$', input: 'a@example.org', expected: false },
    { pattern: 'abc', flags: 'i', input: 'xABCx', expected: true },
    { pattern: '^b', flags: 'm', input: 'a\nb', expected: true },
    { pattern: 'a.b', flags: 's', input: 'a\nb', expected: true },
    { pattern: '\\d{3}-\\d{4}', input: 'call 555-1234', expected: true },
    { pattern: '(a+)+$', input: 'aaaa', expected: true },
    { pattern: 'é+', input: 'café', expected: true },
  ];
  for (const { pattern, flags, input, expected } of cases) {
    test(`/${pattern}/${flags ?? ''} on ${JSON.stringify(input)}`, () => {
      assert.equal(testLinear(compileLinear(pattern, flags), input), expected);
      assert.equal(new RegExp(pattern, flags).test(input), expected, 'the same answer as RegExp');
    });
  }

  for (const [pattern, input] of [
    ['.*.*.*x', 'a'.repeat(100_000)],
    ['^(a|a)*$', `${'a'.repeat(100_000)}b`],
    ['(a+)+$', `${'a'.repeat(100_000)}!`],
    ['(\\w*)*@', 'w'.repeat(100_000)],
  ] as const) {
    test(`${pattern} over ${input.length} characters answers in linear time`, () => {
      const started = performance.now();
      assert.equal(testLinear(compileLinear(pattern), input), false);
      assert.ok(performance.now() - started < 3_000, `${(performance.now() - started).toFixed(0)} ms`);
    });
  }

  for (const pattern of ['(a)\\1', '(?=a)b', '(?<!a)b', '(?!x)']) {
    test(`${pattern} is refused with a reason`, () => {
      assert.throws(() => compileLinear(pattern), (error: unknown) => error instanceof UnsupportedRegexError && /linear time/.test(error.message));
    });
  }
});

describe('LinearRegExp (the RegexEngine JSONata is given)', () => {
  test('exec walks the matches from lastIndex, with groups and index', () => {
    const regex = new LinearRegExp(/(\d+)-(\w)?/);
    const first = regex.exec('a 12-x 345- b');
    assert.deepEqual([...first!], ['12-x', '12', 'x']);
    assert.equal(first!.index, 2);
    const second = regex.exec('a 12-x 345- b');
    assert.deepEqual([...second!], ['345-', '345', undefined]);
    assert.equal(second!.index, 7);
    assert.equal(regex.exec('a 12-x 345- b'), null);
    assert.equal(regex.lastIndex, 0, 'reset after the last match');
  });
  test('flags of the literal are kept', () => {
    assert.ok(new LinearRegExp(/abc/i).test('ABC'));
  });
});
