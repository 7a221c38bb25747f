// Every live topic, declared in one place with its payload type. Payloads carry what subscribers
// need, so no subscriber reads the database per message.
import type { AttemptRow, DeliveryRow, EndpointRow, OperationalEventRow } from '../db/schema.js';

export interface AttemptMessage {
  /** 'started' at the claim (the attempt, IN_FLIGHT, exists only here until it ends), 'finished' once its row is written */
  phase: 'started' | 'finished';
  attempt: AttemptRow;
  delivery: DeliveryRow;
}

export interface DeliveryMessage {
  delivery: DeliveryRow;
  previousStatus: DeliveryRow['status'] | null;
}

export interface EndpointMessage {
  endpoint: EndpointRow;
}

export interface OperationalMessage {
  event: OperationalEventRow;
}

export interface Topics {
  attempt: AttemptMessage;
  delivery: DeliveryMessage;
  endpoint: EndpointMessage;
  operational: OperationalMessage;
}

export type TopicName = keyof Topics;

/** Publishing is fire-and-forget and must never throw into the dispatcher. */
export interface Publisher {
  publish<T extends TopicName>(topic: T, message: Topics[T]): void;
}
