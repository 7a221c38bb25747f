// Raising an operational event, inside the transaction that made the change it reports: the row,
// and a `switchyard.<kind>` event routed to the tenant's hooks that name reserved types, so it is
// delivered, signed and retried like any other event; a FIFO operations hook queues it behind the
// ones before it, as sendEvent would. What changed is published after the commit.
//
// Raised inside an outcome unit, the FIFO hooks are locked mid-transaction, as a captured event's
// and a delivery's end lock them: on PostgreSQL a deadlock between two units then fails one of them,
// whose deliveries keep their leases and are attempted again (late, never lost).
import { newId } from '../../db/ids.js';
import { parseJson } from '../../db/json.js';
import type { DeliveryRow, DeliveryStatus, Executor, OperationalEventRow } from '../../db/schema.js';
import type { Services } from '../../services.js';
import { newEventRow, routeEvent } from '../events/event.service.js';
import { insertDeliveries, insertEvents } from '../events/event.repository.js';
import { findDependencies, findRoutableHooks } from '../hooks/hook.repository.js';
import { lockFifoQueues } from '../deliveries/delivery.fifo.js';
import { insertOperationalEvent } from './operational-event.repository.js';
import { eventTypeOf, isReservedEventType, type OperationalKind } from './operational-kinds.js';

/** What a raise leaves to publish after the commit (the dispatcher's ChangeLog is one). */
export interface OperationalLog {
  deliveries: { delivery: DeliveryRow; previousStatus: DeliveryStatus | null }[];
  operational: OperationalEventRow[];
  /** new deliveries are due: wake the dispatcher */
  due: boolean;
}

export interface RaiseInput {
  tenantId: string;
  kind: OperationalKind;
  endpointId: string | null;
  deliveryId?: string | null;
  /** what the kind tells, as the webhook's data and the row's `data` */
  data?: Record<string, unknown>;
}

/** Whether a hook asks for reserved types by name: `*` alone does not bring Switchyard's own events. */
function namesReservedTypes(eventTypesJson: string): boolean {
  return parseJson<string[]>(eventTypesJson).some(isReservedEventType);
}

export async function raiseOperationalEvent(db: Executor, input: RaiseInput, now: number, log: OperationalLog): Promise<OperationalEventRow> {
  const id = newId('operationalEvent', now);
  const payload = {
    id,
    kind: input.kind,
    tenantId: input.tenantId,
    endpointId: input.endpointId,
    deliveryId: input.deliveryId ?? null,
    ...input.data,
    occurredAt: new Date(now).toISOString(),
  };
  const hooks = (await findRoutableHooks(db, input.tenantId)).filter((hook) => namesReservedTypes(hook.event_types));
  let eventId: string | null = null;
  if (hooks.length > 0) {
    const event = newEventRow({ tenantId: input.tenantId, type: eventTypeOf(input.kind), payloadJson: JSON.stringify(payload) }, now);
    const fifoBusy = await lockFifoQueues(db, hooks);
    const deliveries = routeEvent(event, payload, hooks, await findDependencies(db, hooks.map((hook) => hook.id)), now, 'SCHEDULED', fifoBusy);
    if (deliveries.length > 0) {
      await insertEvents(db, [event]);
      await insertDeliveries(db, deliveries);
      eventId = event.id;
      for (const delivery of deliveries) log.deliveries.push({ delivery, previousStatus: null });
      if (deliveries.some((delivery) => delivery.status === 'PENDING')) log.due = true;
    }
  }
  const row: OperationalEventRow = {
    id,
    tenant_id: input.tenantId,
    kind: input.kind,
    endpoint_id: input.endpointId,
    delivery_id: input.deliveryId ?? null,
    event_id: eventId,
    data: JSON.stringify(input.data ?? {}),
    created_at: now,
  };
  await insertOperationalEvent(db, row);
  log.operational.push(row);
  return row;
}

export function newOperationalLog(): OperationalLog {
  return { deliveries: [], operational: [], due: false };
}

/** After the commit of a write outside the dispatcher (a mutation): what it raised, live, and a wake-up. */
export function publishRaised(services: Services, log: OperationalLog): void {
  for (const change of log.deliveries) services.bus.publish('delivery', change);
  for (const event of log.operational) services.bus.publish('operational', { event });
  if (log.due) services.signals.deliveriesDue();
}
