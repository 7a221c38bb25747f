// A hook's capture sending its result as a new event (hook `captureEvent`), so one receiver's answer
// can start a chain of hooks. Written in the transaction that records the capturing delivery's
// outcome: the event exists exactly when that outcome does.
import { parseJson } from '../../db/json.js';
import type { DeliveryRow, DeliveryStatus, Executor } from '../../db/schema.js';
import type { JsonSchemaCache } from '../../json-schema.js';
import { MAX_CAPTURE_CHAIN } from '../../webhook/capture.js';
import { lockFifoQueues } from '../deliveries/delivery.fifo.js';
import { findEventTypeByName } from '../event-types/event-type.repository.js';
import { schemaKey } from '../event-types/event-type.service.js';
import { findDependencies, findRoutableHooks } from '../hooks/hook.repository.js';
import { insertDeliveries, insertEvents } from './event.repository.js';
import { newEventRow, routeEvent } from './event.service.js';

/** What the caller publishes once the transaction commits. */
export interface CaptureEventLog {
  deliveries: { delivery: DeliveryRow; previousStatus: DeliveryStatus | null }[];
  due: boolean;
}

/**
 * Why a capture's result may not be sent as an event of `type` (the delivery's captureError), or
 * null when it may: the type must still exist, the result must match its schema, and the chain it
 * continues must be shorter than MAX_CAPTURE_CHAIN.
 */
export async function captureEventProblem(
  db: Executor,
  schemas: JsonSchemaCache,
  capture: { type: string; payload: unknown; sourceDepth: number | null },
): Promise<string | null> {
  const { type } = capture;
  if ((capture.sourceDepth ?? 0) >= MAX_CAPTURE_CHAIN) {
    return `captureEvent: no ${type} event sent: its event was sent by a capture ${MAX_CAPTURE_CHAIN} captures deep already`;
  }
  const row = await findEventTypeByName(db, type);
  if (!row || row.archived) return `captureEvent: no ${type} event sent: the event type does not exist (or is archived)`;
  const stored = row.schema;
  if (stored === null) return null;
  const problems = schemas.validate(schemaKey(row), () => parseJson(stored), capture.payload);
  if (problems.length === 0) return null;
  const reasons = problems.map((problem) => `${problem.path.length > 0 ? problem.path.join('.') : 'the result'} ${problem.message}`);
  return `captureEvent: no ${type} event sent: the result does not match its schema (${reasons.join('; ')})`;
}

/** Writes the event and routes it to the tenant's hooks, as sendEvent would; FIFO hooks queue it behind their earlier ones. */
export async function sendCaptureEvent(
  db: Executor,
  input: { tenantId: string; type: string; payloadJson: string; payload: unknown; depth: number; traceparent: string | null },
  now: number,
  log: CaptureEventLog,
): Promise<void> {
  const hooks = await findRoutableHooks(db, input.tenantId);
  const fifoBusy = await lockFifoQueues(db, hooks);
  const event = newEventRow(
    { tenantId: input.tenantId, type: input.type, payloadJson: input.payloadJson, captureDepth: input.depth, traceparent: input.traceparent },
    now,
  );
  const deliveries = routeEvent(event, input.payload, hooks, await findDependencies(db, hooks.map((hook) => hook.id)), now, 'SCHEDULED', fifoBusy);
  await insertEvents(db, [event]);
  await insertDeliveries(db, deliveries);
  for (const delivery of deliveries) log.deliveries.push({ delivery, previousStatus: null });
  if (deliveries.some((delivery) => delivery.status === 'PENDING')) log.due = true;
}
