// JSONata regex literals in transforms run on the linear-time engine: the expressions that held the
// event loop for seconds answer in milliseconds, the usual regex functions behave as before, and a
// pattern the engine cannot run is refused when the hook is saved.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runTransform, transformSyntaxFailure } from '../../src/webhook/transform.js';
import type { TemplateScope } from '../../src/webhook/template-scope.js';

const scope = (data: unknown) => ({ event: { id: 'msg_1', type: 'a.b' }, data, settings: {}, hook: { id: 'hook_1', name: 'h' }, tenant: { id: 'tnt_1' } }) as unknown as TemplateScope;

describe('transform regexes', () => {
  const cases: { expression: string; expected: string }[] = [
    { expression: '$contains("invoice 42", /[0-9]+/)', expected: 'true' },
    { expression: '$match("ab12cd34", /[0-9]+/).match', expected: '["12","34"]' },
    { expression: '$match("k=v", /(\\w)=(\\w)/).groups', expected: '["k","v"]' },
    { expression: '$replace("hello world", /o/, "0")', expected: '"hell0 w0rld"' },
    { expression: '$split("a1b2c", /[0-9]/)', expected: '["a","b","c"]' },
    { expression: '$contains("ABC", /abc/i)', expected: 'true' },
  ];
  for (const { expression, expected } of cases) {
    test(expression, async () => assert.equal(await runTransform(expression, scope({})), expected));
  }

  for (const size of [400, 100_000]) {
    test(`$contains(data.s, /.*.*.*x/) over ${size} characters answers in milliseconds`, async () => {
      const started = performance.now();
      assert.equal(await runTransform('$contains(data.s, /.*.*.*x/)', scope({ s: 'a'.repeat(size) })), 'false');
      assert.ok(performance.now() - started < 200, `${(performance.now() - started).toFixed(0)} ms`);
    });
  }

  test('a pattern the linear engine cannot run is refused at save, at its position', () => {
    const failure = transformSyntaxFailure('$contains(data.s, /(a)\\1/)');
    assert.match(failure?.message ?? '', /linear time/);
    assert.equal(failure?.position, 25);
    assert.equal(transformSyntaxFailure('$match(data.s, /a(?=b)/)')?.message.includes('lookaround'), true);
    assert.equal(transformSyntaxFailure('$contains(data.s, /abc/i)'), null);
  });
});

describe('a transform that spends its whole budget', () => {
  test('lets the event loop run meanwhile (it yields between evaluation steps)', async () => {
    let turns = 0;
    let stop = false;
    const turn = () => {
      turns++;
      if (!stop) setImmediate(turn);
    };
    setImmediate(turn);
    const started = performance.now();
    await assert.rejects(runTransform('$reduce([1..999999], function($a, $b){ $a + $b })', scope({})), /timeout/i);
    stop = true;
    const ms = performance.now() - started;
    assert.ok(ms < 1_500, `ended by its budget: ${ms.toFixed(0)} ms`);
    assert.ok(turns > 20, `the event loop ran ${turns} times while it evaluated`);
  });
});
