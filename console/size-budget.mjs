// Fails the build when the console's JavaScript (dist/assets/*.js, GraphiQL excluded) is over budget.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
const BUDGET_GZIP_BYTES = 250 * 1024;
const dir = new URL('./dist/assets/', import.meta.url);
let raw = 0, gzip = 0;
for (const name of readdirSync(dir)) {
  if (!name.endsWith('.js')) continue;
  const bytes = readFileSync(new URL(name, dir));
  raw += bytes.length;
  gzip += gzipSync(bytes, { level: 9 }).length;
}
writeFileSync(new URL('./dist/size.json', import.meta.url), JSON.stringify({ raw, gzip, budgetGzip: BUDGET_GZIP_BYTES }));
console.log(`console JS: ${(raw / 1024).toFixed(1)} KiB raw, ${(gzip / 1024).toFixed(1)} KiB gzipped (budget ${BUDGET_GZIP_BYTES / 1024} KiB)`);
if (gzip > BUDGET_GZIP_BYTES) { console.error('console JS is over its size budget'); process.exit(1); }
