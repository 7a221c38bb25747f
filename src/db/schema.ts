import type { Kysely, Transaction } from 'kysely';
// Row types of every table, as Kysely sees them. Portable across SQLite and PostgreSQL:
// timestamps are epoch milliseconds (BIGINT), booleans are 0/1 integers, JSON is text.

export type DeliveryStatus =
  | 'PENDING'
  | 'SENDING'
  | 'RETRYING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'BLOCKED'
  | 'SKIPPED'
  | 'CANCELLED';

export type AttemptTrigger = 'SCHEDULED' | 'MANUAL' | 'TEST';
export type AttemptOutcome = 'IN_FLIGHT' | 'SUCCEEDED' | 'FAILED' | 'INTERRUPTED';

export interface TenantsTable {
  id: string;
  name: string;
  uid: string | null;
  metadata: string;
  created_at: number;
  updated_at: number;
}

export interface ApiTokensTable {
  id: string;
  tenant_id: string | null;
  name: string;
  token_hash: string;
  scopes: string;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  created_at: number;
  /** 1: the token may run only the trusted documents (the SDK's operations) */
  trusted_documents_only: number;
}

export interface EventTypesTable {
  id: string;
  name: string;
  description: string;
  schema: string | null;
  examples: string;
  archived: number;
  created_at: number;
  updated_at: number;
}

export interface EndpointsTable {
  id: string;
  tenant_id: string;
  url: string;
  description: string;
  enabled: number;
  disabled_reason: string | null;
  disabled_message: string | null;
  disabled_at: number | null;
  auth_type: string;
  /** AES-256-GCM ciphertext of the receiver credentials (JSON), null for NONE */
  auth_secret: string | null;
  auth_header_name: string | null;
  headers: string;
  timeout_ms: number | null;
  rate_limit_per_second: number | null;
  retry_policy: string | null;
  metadata: string;
  failing_since: number | null;
  /** when its current failing streak was announced (endpoint.failing); null when not announced */
  failing_notified_at: number | null;
  /** the last mark of the auto-disable window announced in this failing streak: 50 or 90 (percent) */
  failing_window_announced: number | null;
  created_at: number;
  updated_at: number;
  /** JSON array of SignatureScheme names, e.g. `["V1"]` */
  signature_schemes: string;
}

export interface EndpointSecretsTable {
  id: string;
  endpoint_id: string;
  /** AES-256-GCM ciphertext of the whsec_ secret */
  secret: string;
  created_at: number;
  /** null for the current secret; set when rotated out */
  expires_at: number | null;
  revealed_at: number | null;
}

export interface EndpointSigningKeysTable {
  id: string;
  endpoint_id: string;
  /** AES-256-GCM ciphertext of the whsk_ ed25519 private key */
  private_key: string;
  /** whpk_ public key, in plain */
  public_key: string;
  created_at: number;
  /** null for the current key; set when rotated out */
  expires_at: number | null;
}

export interface HooksTable {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  name: string;
  description: string;
  active: number;
  event_types: string;
  channels: string;
  filter: string | null;
  method: string;
  path: string | null;
  format: string;
  transform: string | null;
  /** JSON `{kind, body}` of the `{{path}}` body template (webhook/body-template.ts); null for none */
  template: string | null;
  settings: string;
  settings_schema: string | null;
  test_payload: string | null;
  /** JSON object, free-form */
  metadata: string;
  /** request deadline in ms overriding the endpoint's; null = the endpoint's */
  timeout_ms: number | null;
  /** JSON RetryPolicy overriding the endpoint's; null = the endpoint's */
  retry_policy: string | null;
  /** cipher text (services.cipher) of the JSON object of the hook's secrets; null for none */
  secrets: string | null;
  /** JSON object: header name → value with `{{path}}` placeholders */
  headers: string;
  /** UNORDERED, or FIFO (one at a time in event order; a failure lets the next go) or FIFO_HOLD (a failure holds the rest) */
  ordering: HookOrdering;
  /** FIFO_HOLD: the delivery that failed for good and holds the others until it is retried; null when none */
  fifo_held_by: string | null;
  /** JSONata expression over a 2xx response (webhook/capture.ts) whose result is kept on the delivery; null for none */
  capture: string | null;
  /** the event type the capture's result is also sent as, in the hook's tenant; null for none */
  capture_event_type: string | null;
  created_at: number;
  updated_at: number;
}

export interface HookDependenciesTable {
  hook_id: string;
  depends_on_hook_id: string;
}

export interface EventsTable {
  id: string;
  tenant_id: string;
  type: string;
  payload: string;
  channels: string;
  idempotency_key: string | null;
  /** sent by a hook's capture: 1, or one more than the event whose delivery captured it; null for any other event */
  capture_depth: number | null;
  occurred_at: number;
  created_at: number;
  /** W3C `traceparent` of the producer's trace, sent on every delivery request; null when none */
  traceparent: string | null;
}

export interface DeliveriesTable {
  id: string;
  tenant_id: string;
  event_id: string;
  hook_id: string | null;
  endpoint_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempt_count: number;
  /** when the dispatcher should look at it: next attempt for PENDING/RETRYING, lease expiry for SENDING, null otherwise */
  due_at: number | null;
  next_attempt_at: number | null;
  /** fencing token: bumped by every claim; a stale worker's completion is refused */
  lease_token: number;
  /** how the next attempt counts: SCHEDULED, or MANUAL after retryDelivery / recoverEndpoint / replay */
  next_trigger: AttemptTrigger;
  last_status_code: number | null;
  last_error: string | null;
  status_reason: string | null;
  /** JSON text of what the hook's capture made of the last 2xx response; null when none */
  captured: string | null;
  /** why the hook's capture made nothing of the last 2xx response; null when it worked or there is none */
  capture_error: string | null;
  /** the FIFO hook whose queue it is in (src/modules/deliveries/delivery.fifo.ts); null when it is in none */
  fifo_hook_id: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface AttemptsTable {
  id: string;
  delivery_id: string;
  tenant_id: string;
  event_id: string;
  endpoint_id: string;
  hook_id: string | null;
  number: number;
  trigger: AttemptTrigger;
  outcome: AttemptOutcome;
  request_method: string;
  request_url: string;
  request_headers: string;
  request_body: string | null;
  response_status: number | null;
  response_headers: string | null;
  response_body: string | null;
  /** utf8, or base64 when the body is not valid UTF-8 text (or holds NUL, which PostgreSQL text refuses) */
  response_body_encoding: string;
  response_body_truncated: number;
  duration_ms: number | null;
  error_class: string | null;
  error_message: string | null;
  started_at: number;
  finished_at: number | null;
}

export interface OperationalEventsTable {
  id: string;
  tenant_id: string;
  /** endpoint.disabled, endpoint.enabled, endpoint.failing, endpoint.recovered, delivery.exhausted, delivery.recovered */
  kind: string;
  endpoint_id: string | null;
  delivery_id: string | null;
  /** the `switchyard.<kind>` event that carries it to the tenant's hooks */
  event_id: string | null;
  /** JSON: what the kind tells (reason, message, last error, failures in a row) */
  data: string;
  created_at: number;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export type HookOrdering = 'UNORDERED' | 'FIFO' | 'FIFO_HOLD';

export interface Database {
  tenants: TenantsTable;
  api_tokens: ApiTokensTable;
  event_types: EventTypesTable;
  endpoints: EndpointsTable;
  endpoint_secrets: EndpointSecretsTable;
  endpoint_signing_keys: EndpointSigningKeysTable;
  hooks: HooksTable;
  hook_dependencies: HookDependenciesTable;
  events: EventsTable;
  deliveries: DeliveriesTable;
  attempts: AttemptsTable;
  settings: SettingsTable;
  operational_events: OperationalEventsTable;
}

/** What repositories run on: the database, or an open transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;

// Row types: what a `selectAll()` of each table returns, under the names the rest of the code uses.
export type TenantRow = TenantsTable;
export type TokenRow = ApiTokensTable;
export type EventTypeRow = EventTypesTable;
export type EndpointRow = EndpointsTable;
export type EndpointSecretRow = EndpointSecretsTable;
export type EndpointSigningKeyRow = EndpointSigningKeysTable;
export type HookRow = HooksTable;
export type EventRow = EventsTable;
export type DeliveryRow = DeliveriesTable;
export type AttemptRow = AttemptsTable;
export type OperationalEventRow = OperationalEventsTable;
