// Prints schema/schema.graphql from the code; `--check` fails when the committed file differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { buildSchema } from './schema.js';

const target = fileURLToPath(new URL('../../schema/schema.graphql', import.meta.url));
const header = '# Generated from the code by `npm run schema:print`. Do not edit.\n\n';
const printed = `${header}${printSchema(buildSchema())}\n`;

if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(target, 'utf8');
  } catch {
    // missing counts as different
  }
  if (committed !== printed) {
    console.error('schema/schema.graphql is out of date: run `npm run codegen` and commit the result.');
    process.exit(1);
  }
  console.log('schema/schema.graphql is up to date');
} else {
  writeFileSync(target, printed);
  console.log(`wrote ${target}`);
}
