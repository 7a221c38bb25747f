// Migrations are listed statically (not read from disk) so they work the same under tsx, a bundle or tests.
import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_initial.js';

const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
