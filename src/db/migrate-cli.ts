// `npm run migrate`: apply pending migrations to the configured database and exit.
import { loadConfig } from '../env.js';
import { defaultSqlitePath, migrateToLatest, openStore } from './connect.js';

const config = loadConfig();
const store = openStore({ url: config.databaseUrl ?? defaultSqlitePath(config.dataDir) });
try {
  const applied = await migrateToLatest(store.db, store.dialect);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
} finally {
  await store.close();
}
