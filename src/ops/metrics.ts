// Prometheus metrics (prom-client), one registry per app. Counters move where things happen on
// this node: what the dispatcher and the services publish passes through observe(bus) on its way
// to the bus, so with Redis each node counts its own work once and never its peers' messages.
// Gauges of things held in memory (requests in flight, sockets) are read at scrape time.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AttemptOutcome, DeliveryStatus } from '../db/schema.js';
import type { Bus } from '../pubsub/bus.js';
import type { AttemptMessage, DeliveryMessage, OperationalMessage } from '../pubsub/topics.js';

/** Readings taken at scrape time from the parts that hold them. */
export interface MetricSources {
  /** outbound requests the dispatcher has admitted and not yet seen end (main thread) */
  dispatcherInFlight(): number;
  /** requests handed to the HTTP thread and not yet answered; null when requests run on the main thread */
  httpThreadInFlight(): number | null;
  websocketConnections(): number;
  /** deliveries waiting in the queue, by status (a read of the store) */
  queuedDeliveries(): Promise<ReadonlyMap<DeliveryStatus, number>>;
}

export interface Metrics {
  readonly registry: Registry;
  /** A Bus that counts what is published through it on this node, then hands it on. */
  observe(bus: Bus): Bus;
  eventsAccepted(count: number): void;
  claimed(batchSize: number): void;
  committed(durationMs: number, units: number): void;
  /** wraps a subscription hold so live subscriptions are counted while held */
  countSubscription(release: () => void): () => void;
  /** where gauges read from; set once the parts exist */
  setSources(sources: MetricSources): void;
}

const OUTCOMES = ['succeeded', 'failed', 'interrupted'] as const;
/** index = status / 100; 0 for an attempt that got no answer */
const STATUS_CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['PENDING', 'SENDING', 'RETRYING', 'SUCCEEDED', 'FAILED', 'BLOCKED', 'SKIPPED', 'CANCELLED'];

/** Seconds, from a fast local receiver up to the longest request deadline. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500];

const QUEUED_STATUSES: readonly DeliveryStatus[] = ['PENDING', 'RETRYING', 'SENDING', 'BLOCKED'];
/** How old the queue's count may be when a scrape reads it. */
export const QUEUED_COUNT_MAX_AGE_MS = 15_000;

/**
 * A reading taken at most once per `maxAgeMs`: a scrape within that time reuses the last one, and a
 * scrape after it gets the last one too while a fresh one is taken for the next (only the very
 * first waits). The queue's count is a read of the store; counting it from status changes instead
 * would miss what other nodes write on PostgreSQL without Redis, and drift with every lost message.
 */
function readingAtMostEvery<T>(read: () => Promise<T>, maxAgeMs: number, now: () => number): () => Promise<T | null> {
  let last: { value: T; at: number } | null = null;
  let pending: Promise<T | null> | null = null;
  const refresh = () =>
    (pending ??= read().then(
      (value) => {
        last = { value, at: now() };
        pending = null;
        return value;
      },
      () => {
        pending = null;
        return last?.value ?? null;
      },
    ));
  return async () => {
    if (last !== null && now() - last.at < maxAgeMs) return last.value;
    const fresh = refresh();
    return last !== null ? last.value : fresh;
  };
}

export function createMetrics(options: { defaultMetrics?: boolean; now?: () => number; queuedCountMaxAgeMs?: number } = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  // process_* and nodejs_* (event-loop lag among them: nodejs_eventloop_lag_seconds and its percentiles)
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  let sources: MetricSources | null = null;
  let liveSubscriptions = 0;

  const eventsAccepted = new Counter({ name: 'switchyard_events_accepted_total', help: 'Events accepted by sendEvent/sendEvents (duplicates by idempotency key not counted).', registers });
  const attempts = new Counter({
    name: 'switchyard_attempts_total',
    help: 'Finished delivery attempts, by outcome and the class of the receiver\'s status (none: no answer).',
    labelNames: ['outcome', 'status_class'] as const,
    registers,
  });
  // Children made once: counting an attempt is an array look-up and an increment, no label hashing.
  const attemptChildren = OUTCOMES.map((outcome) => STATUS_CLASSES.map((statusClass) => attempts.labels(outcome, statusClass)));
  const attemptDuration = new Histogram({ name: 'switchyard_attempt_duration_seconds', help: 'How long a finished attempt\'s request took, from the request leaving to the response read (or the failure).', buckets: REQUEST_BUCKETS, registers });
  const sendToRequest = new Histogram({
    name: 'switchyard_send_to_request_seconds',
    help: 'From an event\'s acceptance to its first scheduled attempt\'s request leaving for the receiver.',
    buckets: REQUEST_BUCKETS,
    registers,
  });
  const deliveryStatus = new Counter({
    name: 'switchyard_delivery_status_changes_total',
    help: 'Deliveries entering each status on this node (created, claimed, finished, retried, cancelled, skipped).',
    labelNames: ['status'] as const,
    registers,
  });
  const statusChildren = new Map(DELIVERY_STATUSES.map((status) => [status, deliveryStatus.labels(status.toLowerCase())]));
  const commitDuration = new Histogram({
    name: 'switchyard_group_commit_duration_seconds',
    help: 'How long one commit of hot-path writes took, durable on disk (SQLite: one group; PostgreSQL: one transaction).',
    buckets: COMMIT_BUCKETS,
    registers,
  });
  const commitUnits = new Histogram({ name: 'switchyard_group_commit_units', help: 'Writes (accepted events, claims, outcomes) sharing one commit.', buckets: BATCH_BUCKETS, registers });
  const claimBatch = new Histogram({ name: 'switchyard_claim_batch_size', help: 'Deliveries taken by one claim of the dispatcher.', buckets: BATCH_BUCKETS, registers });
  const operational = new Counter({ name: 'switchyard_operational_events_total', help: 'Operational events raised, by kind.', labelNames: ['kind'] as const, registers });
  new Gauge({
    name: 'switchyard_outbound_requests_in_flight',
    help: 'Outbound requests under way: admitted by the dispatcher (thread="main"), and handed to the HTTP thread and not yet answered (thread="http").',
    labelNames: ['thread'] as const,
    registers,
    collect() {
      if (!sources) return;
      this.set({ thread: 'main' }, sources.dispatcherInFlight());
      const http = sources.httpThreadInFlight();
      if (http !== null) this.set({ thread: 'http' }, http);
    },
  });
  const queued = readingAtMostEvery(
    () => (sources ? sources.queuedDeliveries() : Promise.resolve(new Map<DeliveryStatus, number>())),
    options.queuedCountMaxAgeMs ?? QUEUED_COUNT_MAX_AGE_MS,
    options.now ?? Date.now,
  );
  new Gauge({
    name: 'switchyard_queued_deliveries',
    help: `Deliveries waiting in the queue, by status (pending, retrying, sending, and blocked: waiting for runAfter hooks or a FIFO hook's turn), as counted at most every ${QUEUED_COUNT_MAX_AGE_MS / 1000} s.`,
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const counts = await queued();
      if (counts === null) return;
      for (const status of QUEUED_STATUSES) this.set({ status: status.toLowerCase() }, counts.get(status) ?? 0);
    },
  });
  new Gauge({
    name: 'switchyard_websocket_connections',
    help: 'Open graphql-ws connections.',
    registers,
    collect() {
      if (sources) this.set(sources.websocketConnections());
    },
  });
  new Gauge({
    name: 'switchyard_live_subscriptions',
    help: 'GraphQL subscriptions running now (graphql-ws and SSE).',
    registers,
    collect() {
      this.set(liveSubscriptions);
    },
  });

  const onAttempt = ({ phase, attempt, delivery }: AttemptMessage) => {
    if (phase !== 'finished') return;
    const outcome = attemptOutcomeIndex(attempt.outcome);
    if (outcome < 0) return;
    const status = attempt.response_status;
    const statusClass = status === null || status < 100 || status > 599 ? 0 : Math.floor(status / 100);
    attemptChildren[outcome]![statusClass]!.inc();
    if (attempt.duration_ms !== null) attemptDuration.observe(attempt.duration_ms / 1000);
    if (attempt.number === 1 && attempt.trigger === 'SCHEDULED') sendToRequest.observe(Math.max(0, attempt.started_at - delivery.created_at) / 1000);
  };
  const onDelivery = ({ delivery, previousStatus }: DeliveryMessage) => {
    if (delivery.status !== previousStatus) statusChildren.get(delivery.status)?.inc();
  };

  return {
    registry,
    observe(bus) {
      return {
        publish(topic, message) {
          if (topic === 'attempt') onAttempt(message as AttemptMessage);
          else if (topic === 'delivery') onDelivery(message as DeliveryMessage);
          else if (topic === 'operational') operational.inc({ kind: (message as OperationalMessage).event.kind });
          bus.publish(topic, message);
        },
        subscribe: (topic, listener) => bus.subscribe(topic, listener),
        close: () => bus.close(),
      };
    },
    eventsAccepted(count) {
      if (count > 0) eventsAccepted.inc(count);
    },
    claimed(batchSize) {
      if (batchSize > 0) claimBatch.observe(batchSize);
    },
    committed(durationMs, units) {
      commitDuration.observe(durationMs / 1000);
      commitUnits.observe(units);
    },
    countSubscription(release) {
      liveSubscriptions++;
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        liveSubscriptions--;
        release();
      };
    },
    setSources(value) {
      sources = value;
    },
  };
}

function attemptOutcomeIndex(outcome: AttemptOutcome): number {
  switch (outcome) {
    case 'SUCCEEDED':
      return 0;
    case 'FAILED':
      return 1;
    case 'INTERRUPTED':
      return 2;
    default:
      return -1;
  }
}
