import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FILTER_MAX_CONDITIONS,
  FILTER_MAX_DEPTH,
  type FilterDocument,
  InvalidFilterError,
  compileFilter,
  validateFilter,
} from '../../src/webhook/filter.js';

const event = {
  type: 'invoice.paid',
  channels: ['billing', 'eu'],
  data: {
    id: 'inv_1',
    amount: 150,
    currency: 'EUR',
    paid: true,
    note: null,
    createdAt: '2024-03-01T10:00:00Z',
    customer: { email: 'ada@example.com', tier: 'gold', address: { country: 'FR' } },
    tags: ['vip', 'new'],
    scores: [3, 9],
    items: [
      { sku: 'A-1', qty: 2, price: 10 },
      { sku: 'B-2', qty: 1, price: 130, options: [{ name: 'gift' }] },
    ],
    matrix: [
      [1, 2],
      [3, 4],
    ],
    empty: [],
  },
};

function check(cases: [name: string, filter: FilterDocument, expected: boolean][]) {
  for (const [name, filter, expected] of cases) {
    it(`${name}: ${JSON.stringify(filter)} → ${expected}`, () => {
      assert.deepEqual(validateFilter(filter), []);
      assert.equal(compileFilter(filter)(event), expected);
    });
  }
}

describe('compileFilter — equality', () => {
  check([
    ['empty filter matches everything', {}, true],
    ['bare string', { type: 'invoice.paid' }, true],
    ['bare string mismatch', { type: 'invoice.created' }, false],
    ['bare number', { 'data.amount': 150 }, true],
    ['bare boolean', { 'data.paid': true }, true],
    ['bare null matches a present null', { 'data.note': null }, true],
    ['bare null does not match a missing field', { 'data.nothing': null }, false],
    ['$eq', { 'data.currency': { $eq: 'EUR' } }, true],
    ['$eq is type-strict', { 'data.amount': { $eq: '150' } }, false],
    ['$eq deep object', { 'data.customer.address': { $eq: { country: 'FR' } } }, true],
    ['deep object, keys in any order', { 'data.items.0': { qty: 2, price: 10, sku: 'A-1' } }, true],
    ['deep object with an extra key', { 'data.customer.address': { country: 'FR', city: 'Paris' } }, false],
    ['whole array equality', { 'data.tags': ['vip', 'new'] }, true],
    ['whole array, other order', { 'data.tags': ['new', 'vip'] }, false],
    ['array contains the value', { 'data.tags': 'vip' }, true],
    ['array does not contain the value', { 'data.tags': 'old' }, false],
    ['empty object as a value', { 'data.customer': {} }, false],
    ['$neq', { 'data.currency': { $neq: 'USD' } }, true],
    ['$neq equal', { 'data.currency': { $neq: 'EUR' } }, false],
    ['$neq on a missing field holds', { 'data.nothing': { $neq: 'x' } }, true],
    ['$neq on an array containing the value fails', { 'data.tags': { $neq: 'vip' } }, false],
    ['$neq deep object', { 'data.customer.address': { $neq: { country: 'DE' } } }, true],
  ]);
});

describe('compileFilter — comparisons', () => {
  check([
    ['$gt', { 'data.amount': { $gt: 100 } }, true],
    ['$gt boundary', { 'data.amount': { $gt: 150 } }, false],
    ['$gte boundary', { 'data.amount': { $gte: 150 } }, true],
    ['$lt', { 'data.amount': { $lt: 150 } }, false],
    ['$lte boundary', { 'data.amount': { $lte: 150 } }, true],
    ['range (operators ANDed)', { 'data.amount': { $gt: 100, $lt: 200 } }, true],
    ['empty range', { 'data.amount': { $gt: 100, $lt: 120 } }, false],
    ['fractional', { 'data.amount': { $lt: 150.5 } }, true],
    ['string order', { 'data.currency': { $gt: 'CHF' } }, true],
    ['ISO dates as strings', { 'data.createdAt': { $gte: '2024-01-01', $lt: '2024-04-01' } }, true],
    ['number vs string operand is false', { 'data.amount': { $gt: '100' } }, false],
    ['string vs number operand is false', { 'data.currency': { $gt: 1 } }, false],
    ['boolean never compares', { 'data.paid': { $gte: 0 } }, false],
    ['null never compares', { 'data.note': { $lt: 1 } }, false],
    ['missing never compares', { 'data.nothing': { $lt: 1 } }, false],
    ['any array element', { 'data.scores': { $gt: 5 } }, true],
    ['no array element', { 'data.scores': { $gt: 9 } }, false],
    ['operators may match different elements', { 'data.scores': { $lt: 4, $gt: 8 } }, true],
  ]);
});

describe('compileFilter — $in / $nin', () => {
  check([
    ['$in', { 'data.currency': { $in: ['USD', 'EUR'] } }, true],
    ['$in miss', { 'data.currency': { $in: ['USD', 'GBP'] } }, false],
    ['$in empty list', { 'data.currency': { $in: [] } }, false],
    ['$in is type-strict', { 'data.amount': { $in: ['150'] } }, false],
    ['$in with null', { 'data.note': { $in: [null, 'x'] } }, true],
    ['$in on an array value', { 'data.tags': { $in: ['old', 'vip'] } }, true],
    ['$in with objects', { 'data.customer.address': { $in: [{ country: 'DE' }, { country: 'FR' }] } }, true],
    ['$in with an array operand element', { 'data.scores': { $in: [[3, 9]] } }, true],
    ['$nin', { 'data.currency': { $nin: ['USD', 'GBP'] } }, true],
    ['$nin hit', { 'data.currency': { $nin: ['EUR'] } }, false],
    ['$nin on an array containing one', { 'data.tags': { $nin: ['new'] } }, false],
    ['$nin on a missing field holds', { 'data.nothing': { $nin: ['x'] } }, true],
  ]);
});

describe('compileFilter — $exist', () => {
  check([
    ['present', { 'data.amount': { $exist: true } }, true],
    ['present null exists', { 'data.note': { $exist: true } }, true],
    ['present empty array exists', { 'data.empty': { $exist: true } }, true],
    ['missing', { 'data.nothing': { $exist: true } }, false],
    ['missing, $exist false', { 'data.nothing': { $exist: false } }, true],
    ['present, $exist false', { 'data.amount': { $exist: false } }, false],
    ['missing below a scalar', { 'data.amount.value': { $exist: false } }, true],
    ['missing below null', { 'data.note.x': { $exist: true } }, false],
    ['in some array element', { 'data.items.options': { $exist: true } }, true],
    ['index out of range', { 'data.items.5': { $exist: true } }, false],
    ['prototype keys are not fields', { 'data.constructor': { $exist: true } }, false],
    ['__proto__ is not a field', { 'data.__proto__': { $exist: true } }, false],
    ['toString is not a field', { 'data.customer.toString': { $exist: false } }, true],
  ]);
});

describe('compileFilter — $regex', () => {
  check([
    ['match', { 'data.customer.email': { $regex: '@example\\.com$' } }, true],
    ['no match', { 'data.customer.email': { $regex: '^bob@' } }, false],
    ['case-sensitive', { 'data.currency': { $regex: '^eur$' } }, false],
    ['type prefix', { type: { $regex: '^invoice\\.' } }, true],
    ['non-strings never match', { 'data.amount': { $regex: '150' } }, false],
    ['any array element', { 'data.tags': { $regex: '^v' } }, true],
    ['missing never matches', { 'data.nothing': { $regex: '.*' } }, false],
    ['safe group repetition', { 'data.items.sku': { $regex: '^(?:[A-Z]-)+\\d$' } }, true],
    ['named group', { 'data.id': { $regex: '^(?<prefix>inv)_\\d+$' } }, true],
  ]);

  it('is stateless across calls (no g flag state)', () => {
    const predicate = compileFilter({ 'data.currency': { $regex: 'EUR' } });
    assert.deepEqual([predicate(event), predicate(event), predicate(event)], [true, true, true]);
  });
});

describe('compileFilter — paths and arrays', () => {
  check([
    ['nested object', { 'data.customer.address.country': 'FR' }, true],
    ['array index', { 'data.items.0.sku': 'A-1' }, true],
    ['array index, other element', { 'data.items.1.sku': 'A-1' }, false],
    ['array without index: any element', { 'data.items.sku': 'B-2' }, true],
    ['array without index: no element', { 'data.items.sku': 'C-3' }, false],
    ['any element, comparison', { 'data.items.price': { $gt: 100 } }, true],
    ['arrays within arrays of objects', { 'data.items.options.name': 'gift' }, true],
    ['nested array index', { 'data.matrix.1.0': 3 }, true],
    ['nested arrays: elements of the indexed row', { 'data.matrix.0': 2 }, true],
    ['top-level channels', { channels: 'eu' }, true],
    ['top-level channels $in', { channels: { $in: ['us'] } }, false],
    ['path through a scalar is missing', { 'type.x': 'y' }, false],
  ]);

  it('evaluates against non-object documents without throwing', () => {
    const predicate = compileFilter({ 'data.amount': { $gt: 1 } });
    for (const document of [null, undefined, 42, 'text', [], [{ data: { amount: 5 } }]]) {
      assert.equal(predicate(document), Array.isArray(document) && document.length === 1);
    }
  });

  it('reads object keys that look like indices', () => {
    assert.equal(compileFilter({ 'data.0': 'zero' })({ data: { 0: 'zero' } }), true);
  });
});

describe('compileFilter — logic', () => {
  check([
    ['the example from the design', {
      'data.amount': { $gt: 100 },
      type: 'invoice.paid',
      $or: [{ 'data.currency': 'EUR' }, { 'data.currency': { $in: ['USD', 'GBP'] } }],
    }, true],
    ['top-level keys are ANDed', { type: 'invoice.paid', 'data.currency': 'USD' }, false],
    ['$and all true', { $and: [{ type: 'invoice.paid' }, { 'data.paid': true }] }, true],
    ['$and one false', { $and: [{ type: 'invoice.paid' }, { 'data.paid': false }] }, false],
    ['$or one true', { $or: [{ type: 'x' }, { 'data.paid': true }] }, true],
    ['$or none true', { $or: [{ type: 'x' }, { type: 'y' }] }, false],
    ['$not document', { $not: { type: 'invoice.created' } }, true],
    ['$not document that matches', { $not: { type: 'invoice.paid', 'data.amount': 150 } }, false],
    ['$not at field level', { 'data.customer.email': { $not: { $regex: '@test\\.' } } }, true],
    ['$not at field level negates the ANDed operators', { 'data.amount': { $not: { $gt: 100, $lt: 200 } } }, false],
    ['$not at field level on a missing field', { 'data.nothing': { $not: { $eq: 1 } } }, true],
    ['nested logic', {
      $or: [
        { $and: [{ 'data.currency': 'USD' }, { 'data.amount': { $gt: 1000 } }] },
        { $and: [{ 'data.currency': 'EUR' }, { $not: { 'data.customer.tier': { $in: ['free', 'trial'] } } }] },
      ],
    }, true],
    ['deeply nested $or', { $or: [{ $or: [{ $or: [{ $and: [{ 'data.items.qty': 1 }] }] }] }] }, true],
    ['empty documents inside logic', { $and: [{}], $or: [{}, { type: 'x' }] }, true],
  ]);
});

describe('validateFilter', () => {
  const cases: [name: string, filter: unknown, problems: { path: string[]; message: RegExp }[]][] = [
    ['not an object', 'type = x', [{ path: [], message: /JSON object/ }]],
    ['null', null, [{ path: [], message: /JSON object/ }]],
    ['an array', [{ type: 'x' }], [{ path: [], message: /JSON object/ }]],
    ['unknown top-level operator', { $nor: [] }, [{ path: ['$nor'], message: /unknown operator \$nor/ }]],
    ['field operator at document level', { $gt: 1 }, [{ path: ['$gt'], message: /under a field/ }]],
    ['unknown field operator', { 'data.amount': { $between: [1, 2] } }, [{ path: ['data.amount', '$between'], message: /unknown operator/ }]],
    ['mongo spelling $ne is unknown', { type: { $ne: 'x' } }, [{ path: ['type', '$ne'], message: /unknown operator \$ne/ }]],
    ['$gt with an object', { 'data.amount': { $gt: { n: 1 } } }, [{ path: ['data.amount', '$gt'], message: /number or a string/ }]],
    ['$lte with null', { 'data.amount': { $lte: null } }, [{ path: ['data.amount', '$lte'], message: /number or a string/ }]],
    ['$gte with a boolean', { 'data.amount': { $gte: true } }, [{ path: ['data.amount', '$gte'], message: /number or a string/ }]],
    ['$in with a scalar', { 'data.currency': { $in: 'EUR' } }, [{ path: ['data.currency', '$in'], message: /array/ }]],
    ['$nin with an object', { 'data.currency': { $nin: { a: 1 } } }, [{ path: ['data.currency', '$nin'], message: /array/ }]],
    ['$exist with a string', { 'data.x': { $exist: 'yes' } }, [{ path: ['data.x', '$exist'], message: /true or false/ }]],
    ['$regex with a number', { 'data.x': { $regex: 5 } }, [{ path: ['data.x', '$regex'], message: /string/ }]],
    ['$regex invalid', { 'data.x': { $regex: '(unclosed' } }, [{ path: ['data.x', '$regex'], message: /not a valid regular expression/ }]],
    ['$regex too long', { 'data.x': { $regex: 'a'.repeat(257) } }, [{ path: ['data.x', '$regex'], message: /longer than 256/ }]],
    ['$regex with a backreference', { 'data.x': { $regex: '(a)\\1' } }, [{ path: ['data.x', '$regex'], message: /linear time/ }]],
    ['$regex with a lookahead', { 'data.x': { $regex: 'a(?=b)' } }, [{ path: ['data.x', '$regex'], message: /linear time/ }]],
    ['$regex with a lookbehind', { 'data.x': { $regex: '(?<=a+)b' } }, [{ path: ['data.x', '$regex'], message: /lookaround/ }]],
    ['$and empty', { $and: [] }, [{ path: ['$and'], message: /non-empty array/ }]],
    ['$or not an array', { $or: { type: 'x' } }, [{ path: ['$or'], message: /non-empty array/ }]],
    ['$or with a non-document', { $or: [{ type: 'x' }, 'y'] }, [{ path: ['$or', '1'], message: /JSON object/ }]],
    ['$not with an array', { $not: [{ type: 'x' }] }, [{ path: ['$not'], message: /JSON object/ }]],
    ['field $not with a plain value', { type: { $not: 'x' } }, [{ path: ['type', '$not'], message: /operator object/ }]],
    ['field $not with plain keys', { type: { $not: { a: 1 } } }, [{ path: ['type', '$not'], message: /operator object/ }]],
    ['field $not with an empty object', { type: { $not: {} } }, [{ path: ['type', '$not'], message: /operator object/ }]],
    ['$and at field level', { type: { $and: [{ $eq: 'x' }] } }, [{ path: ['type', '$and'], message: /document level/ }]],
    ['mixed operators and keys', { 'data.customer': { $exist: true, tier: 'gold' } }, [{ path: ['data.customer'], message: /mixes/ }]],
    ['nested operator in a plain value', { data: { amount: { $gt: 1 } } }, [{ path: ['data'], message: /dot path/ }]],
    ['nested operator in an $eq value', { data: { $eq: { amount: { $gt: 1 } } } }, [{ path: ['data', '$eq'], message: /\$gt/ }]],
    ['empty path', { '': 1 }, [{ path: [''], message: /not a valid path/ }]],
    ['empty segment', { 'data..amount': 1 }, [{ path: ['data..amount'], message: /not a valid path/ }]],
    ['trailing dot', { 'data.': 1 }, [{ path: ['data.'], message: /not a valid path/ }]],
    [
      'problems deep inside logic',
      { $or: [{ type: 'x' }, { $and: [{ 'data.a': { $gt: [] } }, { $not: { 'data.b': { $regex: '(x)\\1' } } }] }] },
      [
        { path: ['$or', '1', '$and', '0', 'data.a', '$gt'], message: /number or a string/ },
        { path: ['$or', '1', '$and', '1', '$not', 'data.b', '$regex'], message: /linear time/ },
      ],
    ],
    [
      'several problems at once',
      { 'data.a': { $in: 1, $exist: 1 }, $xor: [] },
      [
        { path: ['data.a', '$in'], message: /array/ },
        { path: ['data.a', '$exist'], message: /true or false/ },
        { path: ['$xor'], message: /unknown/ },
      ],
    ],
  ];
  for (const [name, filter, expected] of cases) {
    it(name, () => {
      const problems = validateFilter(filter);
      assert.deepEqual(problems.map((p) => p.path), expected.map((p) => p.path), JSON.stringify(problems));
      expected.forEach((e, i) => assert.match(problems[i]?.message ?? '', e.message));
    });
  }

  it('accepts every pattern the linear engine runs, the shapes that backtrack in JavaScript included', () => {
    for (const pattern of ['^(ab)?c+$', '(a+)?', '(a|b)+', '(?:\\d{3})+', '(x{1})+', '(\\w{2,2}-)+', '[(a+)+]', '\\(a+\\)+', '^(a+)+$', '(\\w*)*', '(?:a|b+){2,}', '.*.*.*x', '^(a|a)*$', '\\u00e9']) {
      assert.deepEqual(validateFilter({ 'data.x': { $regex: pattern } }), [], pattern);
    }
  });

  it('a backtracking shape over a long string answers in linear time', () => {
    const payload = { s: `${'a'.repeat(50_000)}!` };
    for (const pattern of ['.*.*.*x', '^(a|a)*$', '^(a+)+$']) {
      const started = performance.now();
      assert.equal(compileFilter({ 'data.s': { $regex: pattern } })({ ...event, data: payload }), false, pattern);
      // JavaScript's engine would not finish these in a lifetime; the bound leaves room for a busy machine
      assert.ok(performance.now() - started < 2_000, `${pattern}: ${(performance.now() - started).toFixed(0)} ms`);
    }
  });

  it(`limits nesting to ${FILTER_MAX_DEPTH} levels`, () => {
    const nest = (levels: number): FilterDocument => (levels === 1 ? { type: 'invoice.paid' } : { $and: [nest(levels - 1)] });
    assert.deepEqual(validateFilter(nest(FILTER_MAX_DEPTH)), []);
    assert.equal(compileFilter(nest(FILTER_MAX_DEPTH))(event), true);
    const problems = validateFilter(nest(FILTER_MAX_DEPTH + 1));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.path.length, 2 * FILTER_MAX_DEPTH);
    assert.match(problems[0]?.message ?? '', /deeper than 10/);

    const notNest = (levels: number): unknown => (levels === 0 ? { $eq: 1 } : { $not: notNest(levels - 1) });
    assert.deepEqual(validateFilter({ x: notNest(FILTER_MAX_DEPTH - 1) }), []);
    assert.match(validateFilter({ x: notNest(FILTER_MAX_DEPTH) })[0]?.message ?? '', /deeper than 10/);
  });

  it(`limits a filter to ${FILTER_MAX_CONDITIONS} conditions`, () => {
    const filter = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`data.f${i}`, { $exist: false }]));
    assert.deepEqual(validateFilter(filter(FILTER_MAX_CONDITIONS)), []);
    const problems = validateFilter({ $or: [filter(FILTER_MAX_CONDITIONS), { 'data.extra': { $gt: 1, $lt: 2 } }] });
    assert.deepEqual(problems, [{ path: [], message: `has more than ${FILTER_MAX_CONDITIONS} conditions` }]);
  });

  it('compileFilter throws InvalidFilterError with the problems', () => {
    assert.throws(
      () => compileFilter({ 'data.amount': { $gt: null } }),
      (error: unknown) =>
        error instanceof InvalidFilterError &&
        error.problems.length === 1 &&
        /data\.amount › \$gt: must be a number or a string/.test(error.message),
    );
  });
});

describe('compileFilter — cost', () => {
  it('refused regex shapes never reach the engine; accepted ones stay fast on long input', () => {
    const predicate = compileFilter({ 'data.text': { $regex: '^[a-z]+!$' } });
    const started = performance.now();
    assert.equal(predicate({ data: { text: `${'a'.repeat(100_000)}?` } }), false);
    assert.ok(performance.now() - started < 1_000);
  });

  it('a long $in list is a set lookup', () => {
    const values = Array.from({ length: 50_000 }, (_, i) => `id_${i}`);
    const predicate = compileFilter({ 'data.id': { $in: values } });
    assert.equal(predicate({ data: { id: 'id_49999' } }), true);
    assert.equal(predicate({ data: { id: 'nope' } }), false);
  });
});
