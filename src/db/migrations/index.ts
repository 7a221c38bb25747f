// Migrations are listed statically (not read from disk) so they work the same under tsx, a bundle or tests.
import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_covering_due_index.js';
import * as m0003 from './0003_drop_time_indexes.js';
import * as m0004 from './0004_trusted_documents_only.js';
import * as m0005 from './0005_operational_events.js';
import * as m0006 from './0006_hook_options.js';
import * as m0007 from './0007_signature_schemes.js';
import * as m0008 from './0008_hook_secrets.js';
import * as m0009 from './0009_hook_ordering.js';
import * as m0010 from './0010_event_traceparent.js';
import * as m0011 from './0011_response_capture.js';
import * as m0012 from './0012_failing_window_marks.js';
import * as m0013 from './0013_drop_redundant_hook_index.js';
import * as m0014 from './0014_waiting_deliveries_index.js';
import * as m0015 from './0015_fifo_queue_column.js';
import * as m0016 from './0016_partial_idempotency_index.js';

const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_covering_due_index': m0002,
  '0003_drop_time_indexes': m0003,
  '0004_trusted_documents_only': m0004,
  '0005_operational_events': m0005,
  '0006_hook_options': m0006,
  '0007_signature_schemes': m0007,
  '0008_hook_secrets': m0008,
  '0009_hook_ordering': m0009,
  '0010_event_traceparent': m0010,
  '0011_response_capture': m0011,
  '0012_failing_window_marks': m0012,
  '0013_drop_redundant_hook_index': m0013,
  '0014_waiting_deliveries_index': m0014,
  '0015_fifo_queue_column': m0015,
  '0016_partial_idempotency_index': m0016,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
