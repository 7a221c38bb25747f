// The layering rules of .dependency-cruiser.cjs fire: each wrong import in a small tree of its own is
// refused by the rule that names it, and the right direction passes. (`npm test` also runs the rules on
// the real tree, as `npm run lint:deps`.)
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';

const repository = join(import.meta.dirname, '..', '..');
const depcruise = join(repository, 'node_modules', '.bin', 'depcruise');

const cases: { from: string; to: string; rule: string | string[] | null }[] = [
  { from: 'src/webhook/signing.ts', to: 'src/db/ids.ts', rule: 'webhook-logic-is-pure' },
  { from: 'src/webhook/request.ts', to: 'src/modules/hooks/hook.service.ts', rule: 'webhook-logic-is-pure' },
  { from: 'src/db/pagination.ts', to: 'src/graphql/builder.ts', rule: 'store-knows-no-graphql' },
  { from: 'src/modules/hooks/hook.service.ts', to: 'src/dispatch/dispatcher.ts', rule: 'modules-do-not-reach-the-dispatcher' },
  { from: 'src/pubsub/topics.ts', to: 'src/modules/hooks/hook.repository.ts', rule: 'pubsub-is-transport' },
  { from: 'src/services.ts', to: 'src/dispatch/dispatcher.ts', rule: 'services-is-an-interface' },
  { from: 'src/graphql/builder.ts', to: 'src/modules/hooks/hook.schema.ts', rule: 'graphql-kit-below-modules' },
  { from: 'src/dispatch/dispatcher.ts', to: 'src/graphql/builder.ts', rule: 'dispatch-knows-no-graphql' },
  { from: 'src/env.ts', to: 'src/db/connect.ts', rule: 'kernel-is-the-floor' },
  { from: 'src/modules/hooks/hook.service.ts', to: 'src/app.ts', rule: ['modules-do-not-reach-the-dispatcher', 'only-main-starts-the-app'] },
  { from: 'src/dispatch/dispatcher.ts', to: 'src/app.ts', rule: ['dispatch-knows-no-graphql', 'only-main-starts-the-app'] },
  { from: 'src/ops/metrics.ts', to: 'src/dispatch/dispatcher.ts', rule: 'ops-watches-from-outside' },
  { from: 'src/modules/events/event.service.ts', to: 'src/ops/metrics.ts', rule: 'only-the-app-wires-ops' },
  // the allowed directions
  { from: 'src/app.ts', to: 'src/ops/metrics.ts', rule: null },
  { from: 'src/ops/readiness.ts', to: 'src/db/connect.ts', rule: null },
  { from: 'src/dispatch/dispatcher.ts', to: 'src/modules/hooks/hook.repository.ts', rule: null },
  { from: 'src/modules/hooks/hook.service.ts', to: 'src/webhook/request.ts', rule: null },
  { from: 'src/webhook/request.ts', to: 'src/errors.ts', rule: null },
  { from: 'src/graphql/schema.ts', to: 'src/modules/hooks/hook.schema.ts', rule: null },
  { from: 'src/app.ts', to: 'src/dispatch/dispatcher.ts', rule: null },
];

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A tree with just these files; `imports` maps a file to what it imports. */
function tree(imports: Record<string, string[]>): string {
  const root = mkdtempSync(join(tmpdir(), 'layers-'));
  roots.push(root);
  const files = new Set([...Object.keys(imports), ...Object.values(imports).flat()]);
  for (const file of files) {
    mkdirSync(join(root, dirname(file)), { recursive: true });
    const lines = (imports[file] ?? []).map((target) => {
      const depth = file.split('/').length - 2;
      const prefix = depth === 0 ? './' : '../'.repeat(depth);
      return `import '${prefix}${target.slice('src/'.length).replace(/\.ts$/, '.js')}';`;
    });
    writeFileSync(join(root, file), `${lines.join('\n')}\nexport const here = 1;\n`);
  }
  return root;
}

/** The project's rules run by the dependency-cruiser CLI over the tree (the fixture has no tsconfig of its own). */
async function violations(root: string): Promise<{ rule: string; from: string; to: string }[]> {
  const config = join(root, 'rules.cjs');
  writeFileSync(
    config,
    `const rules = require(${JSON.stringify(join(repository, '.dependency-cruiser.cjs'))});\n` +
      'const { tsConfig, ...options } = rules.options;\nmodule.exports = { ...rules, options };\n',
  );
  const { stdout } = await promisify(execFile)(depcruise, ['src', '--config', config, '--output-type', 'json'], { cwd: root }).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  );
  const output = JSON.parse(stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
  return output.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

describe('layering rules', () => {
  // One tree holding every case's import, cruised once: each (from, to) pair is judged by the
  // violations reported for it (circles among unrelated cases are the next test's business).
  let found: Promise<{ rule: string; from: string; to: string }[]> | null = null;
  const all = () => {
    if (!found) {
      const imports: Record<string, string[]> = {};
      for (const { from, to } of cases) (imports[from] ??= []).push(to);
      found = violations(tree(imports));
    }
    return found;
  };
  for (const { from, to, rule } of cases) {
    test(`${from} → ${to}: ${rule === null ? 'allowed' : [rule].flat().join(' + ')}`, async () => {
      const forPair = (await all()).filter((v) => v.from === from && v.to === to && v.rule !== 'no-circular');
      if (rule === null) assert.deepEqual(forPair, []);
      else assert.deepEqual(forPair.map((v) => v.rule).sort(), [rule].flat().sort(), JSON.stringify(forPair));
    });
  }

  test('a circle of imports is refused', async () => {
    const circle = await violations(tree({ 'src/dispatch/a.ts': ['src/dispatch/b.ts'], 'src/dispatch/b.ts': ['src/dispatch/a.ts'] }));
    assert.ok(circle.length > 0 && circle.every((v) => v.rule === 'no-circular'), JSON.stringify(circle));
  });
});
