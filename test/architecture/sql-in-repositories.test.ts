// Services own rules and transactions; the SQL they run is in their module's repositories (and the
// few files beside them that hold one concern's statements, e.g. delivery.fifo.ts), each statement
// once. A service that builds a query itself is refused here, with the line that does.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const repository = join(import.meta.dirname, '..', '..');
const modules = join(repository, 'src', 'modules');
/** Kysely's query builders and raw SQL: what a repository writes and a service does not */
const BUILDS_SQL = /\.(selectFrom|updateTable|insertInto|deleteFrom|replaceInto|mergeInto)\(|\bsql`/;

function serviceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return serviceFiles(path);
    return entry.name.endsWith('.service.ts') ? [path] : [];
  });
}

test('no service builds SQL: its statements live in repositories', () => {
  const files = serviceFiles(modules);
  assert.ok(files.length >= 8, `found the services (${files.length})`);
  const found = files.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, index) => (BUILDS_SQL.test(line) && !line.trimStart().startsWith('//') ? [`${relative(repository, file)}:${index + 1}: ${line.trim()}`] : [])),
  );
  assert.deepEqual(found, []);
});

test('the check itself sees a query built in a service', () => {
  for (const line of ["const rows = await db.selectFrom('deliveries').selectAll().execute();", 'await trx.updateTable("hooks").set(changes)', 'const q = sql`select 1`;']) {
    assert.ok(BUILDS_SQL.test(line), line);
  }
  for (const line of ['await findDeliveryById(db, id);', "const from = idFloor('delivery', since);"]) assert.ok(!BUILDS_SQL.test(line), line);
});
