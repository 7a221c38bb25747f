// Type-level tests: never run, only compiled by the root `tsc -p tsconfig.json`. Every line must
// type-check and every `@ts-expect-error` must still be an error, so a schema or operation change
// that breaks SDK users' code (a renamed field, a new union member, a type widened to `any`) fails CI.
import {
  createClient,
  paginate,
  SwitchyardGraphQLError,
  type AttemptOutcome,
  type DeliveryStatus,
  type EndpointFieldsFragment,
  type ErrorCode,
  type SendEventMutation,
  type SwitchyardClient,
} from '../src/index.js';

/** Fails to compile unless A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

declare const client: SwitchyardClient;

export async function producer(): Promise<string> {
  const { sendEvent } = await client.sendEvent({ input: { type: 'invoice.paid', payload: { id: 'in_1' }, tenantId: 'ten_1' } });
  // Exhaustive over the result union: a new error type in the schema must be handled here.
  switch (sendEvent.__typename) {
    case 'SendEventPayload': {
      const count: number = sendEvent.deliveryCount;
      const duplicate: boolean = sendEvent.duplicate;
      void [count, duplicate];
      return sendEvent.event.id;
    }
    case 'ValidationError': {
      const paths: string[][] = sendEvent.problems.map((problem) => problem.path);
      const code: ErrorCode = sendEvent.code;
      throw new Error(`${code}: ${paths.join(' ')}`);
    }
    case 'NotFoundError':
      throw new Error(`${sendEvent.entity} ${sendEvent.id}: ${sendEvent.message}`);
    case 'ConflictError':
      throw new Error(sendEvent.message);
    default: {
      const exhaustive: never = sendEvent;
      return exhaustive;
    }
  }
}

export async function misuse(): Promise<void> {
  const { sendEvent } = await client.sendEvent({ input: { type: 'invoice.paid', payload: {} } });
  // @ts-expect-error the payload's fields exist only after narrowing on __typename
  void sendEvent.event;
  // @ts-expect-error `problems` is only on ValidationError
  void sendEvent.problems;
  if (sendEvent.__typename === 'NotFoundError') {
    // @ts-expect-error a NotFoundError has no problems
    void sendEvent.problems;
  }

  // @ts-expect-error `input` is required
  await client.sendEvent({});
  // @ts-expect-error `payload` is required
  await client.sendEvent({ input: { type: 'invoice.paid' } });
  // @ts-expect-error unknown input fields are refused
  await client.sendEvent({ input: { type: 'invoice.paid', payload: {}, priority: 1 } });
  // @ts-expect-error enum values are checked
  await client.deliveries({ filter: { statuses: ['DONE'] } });
  // @ts-expect-error operations that do not exist are not methods
  await client.deleteEverything();

  const { endpoint } = await client.endpoint({ id: 'ep_1' });
  // @ts-expect-error the endpoint may not exist (null)
  void endpoint.url;
  if (endpoint) {
    const url: string = endpoint.url;
    // @ts-expect-error nullable fields stay nullable
    const reason: string = endpoint.disabledReason;
    void [url, reason];
  }
}

export async function reading(): Promise<void> {
  // Variables are optional when every one of them is.
  const { tenants } = await client.tenants();
  const names: string[] = tenants.nodes.map((tenant) => tenant.name);
  void names;

  // Fragment types name the shapes callers pass around.
  const { endpoints } = await client.endpoints({ first: 10 });
  const first: EndpointFieldsFragment | undefined = endpoints.nodes[0];
  void first?.signingSecrets.map((secret) => secret.current);

  // paginate infers the node type from the connection.
  for await (const delivery of paginate((page) => client.deliveries({ ...page, filter: { statuses: ['FAILED'] } }).then((r) => r.deliveries))) {
    const status: DeliveryStatus = delivery.status;
    const hookName: string | undefined = delivery.hook?.name;
    void [status, hookName];
    // @ts-expect-error the selection does not include the payload
    void delivery.event.payload;
  }

  // Results are the operation types, exported for callers' own signatures.
  assertType<Equal<Awaited<ReturnType<SwitchyardClient['sendEvent']>>, SendEventMutation>>();
}

export async function live(signal: AbortSignal): Promise<void> {
  // Subscriptions yield the subscribed field itself, typed by the operation's selection.
  for await (const attempt of client.deliveryAttempts({ filter: { endpointId: 'ep_1', includeStarted: true } }, { signal })) {
    const outcome: AttemptOutcome = attempt.outcome;
    const status: DeliveryStatus = attempt.delivery.status;
    const responseStatus: number | undefined = attempt.response?.status;
    void [outcome, status, responseStatus];
    // @ts-expect-error it is the attempt, not the `data` wrapper
    void attempt.deliveryAttempts;
    if (attempt.outcome === 'FAILED') {
      const { retryDelivery } = await client.retryDelivery({ input: { id: attempt.deliveryId } });
      if (retryDelivery.__typename === 'DeliveryPayload') void retryDelivery.delivery.status;
    }
  }
  for await (const endpoint of client.endpointUpdated()) {
    const enabled: boolean = endpoint.enabled;
    void enabled;
  }
  const deliveries = client.deliveryUpdated({ filter: { statuses: ['FAILED', 'SUCCEEDED'] } });
  await deliveries.return();
  // @ts-expect-error subscription filters are typed
  client.deliveryUpdated({ filter: { statuses: ['DONE'] } });
  // @ts-expect-error subscriptions take a signal only, not per-request headers
  client.endpointUpdated({}, { headers: { 'x-a': 'b' } });
}

export async function errors(): Promise<void> {
  const frontend = createClient({ url: 'https://hooks.example.com/graphql', token: async () => 'sy_tenant_token' });
  try {
    await frontend.viewer();
  } catch (error) {
    if (error instanceof SwitchyardGraphQLError && error.code === 'UNAUTHENTICATED') {
      const codes: string[] = error.codes;
      void codes;
    }
  }
  // @ts-expect-error `url` and `token` are required
  createClient({ url: 'https://hooks.example.com/graphql' });
}
