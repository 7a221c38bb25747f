// How a dispatcher is set up: its collaborators and the bounds it works within (defaults from config).
import type { Publisher } from '../pubsub/topics.js';
import type { Services } from '../services.js';
import type { Deliverer } from './deliverer.js';

export interface DispatcherOptions {
  services: Services;
  /** builds and sends the requests (on this thread, or on the HTTP thread) */
  deliverer: Deliverer;
  publisher: Publisher;
  /** Requests in flight at once, over all endpoints. Default: config.maxInFlight. */
  maxInFlight?: number;
  /** Requests in flight at once to one endpoint. Default: config.maxInFlightPerEndpoint. */
  maxInFlightPerEndpoint?: number;
  /** How long a claim holds a delivery before another worker may take it over. Default: config.leaseMs. */
  leaseMs?: number;
  /**
   * Requests handed to the HTTP client beyond maxInFlight (and, in proportion, beyond
   * maxInFlightPerEndpoint), for a client that bounds its own concurrency at those two figures (the
   * threaded client): they wait there and start the moment a request ends, instead of after this
   * thread has heard of it, claimed again and committed. Default 0 (the client gets only what may
   * run at once).
   */
  queueAhead?: number;
  /** Deliveries claimed per transaction. Default 200. */
  claimBatchSize?: number;
  /** Longest sleep between looks at the queue when nothing wakes the dispatcher. Default 1000 ms. */
  pollIntervalMs?: number;
  /** How long stop() waits for requests in flight before interrupting them. Default 10 s. */
  stopTimeoutMs?: number;
  /** Jitter source for the retry schedule (tests pin it). Default Math.random. */
  random?: () => number;
  /**
   * Under load, how long finished attempts may wait to share one commit (a claim, which never
   * waits, takes them along earlier). Each commit syncs the store to disk, so batching them is what
   * lets throughput grow; neither the request nor its slot waits for it. Default 10 ms; an idle
   * dispatcher commits at once.
   */
  commitGatherMs?: number;
  /** Called with the size of every claim that took deliveries (metrics). Default: nothing. */
  onClaim?: (batchSize: number) => void;
}
