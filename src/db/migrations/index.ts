// Migrations are listed statically (not read from disk) so they work the same under tsx, a bundle or tests.
import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_covering_due_index.js';
import * as m0003 from './0003_drop_time_indexes.js';
import * as m0004 from './0004_trusted_documents_only.js';
import * as m0005 from './0005_operational_events.js';
import * as m0006 from './0006_event_traceparent.js';

const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_covering_due_index': m0002,
  '0003_drop_time_indexes': m0003,
  '0004_trusted_documents_only': m0004,
  '0005_operational_events': m0005,
  '0006_event_traceparent': m0006,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
