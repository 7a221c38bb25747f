// The one way Switchyard talks to receivers, as a promise per request: the exchange itself
// (http-exchange.ts) runs over a single undici Agent behind the SSRF-guarded connect
// (guarded-connector.ts); this wraps it with an AbortSignal.
import { createExchanger, type HttpClient, type HttpClientOptions, type OutboundResult } from './http-exchange.js';

/**
 * Creates the client and its one undici Agent (keep-alive pool per origin, guarded connect,
 * no redirects, no decompression). Throws a RangeError for a non-integer or out-of-range option.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const exchanger = createExchanger(options);
  return {
    send(request, signal) {
      return new Promise<OutboundResult>((resolve, reject) => {
        signal?.throwIfAborted();
        let onAbort: (() => void) | null = null;
        const cancel = exchanger.start(request, (outcome) => {
          if (onAbort !== null) signal?.removeEventListener('abort', onAbort);
          if (outcome.ok) resolve(outcome.result);
          else reject(outcome.error);
        });
        if (signal) {
          onAbort = () => cancel(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
        }
      });
    },
    close: () => exchanger.close(),
  };
}
