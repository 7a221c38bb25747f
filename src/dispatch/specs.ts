// Hook and endpoint specs as requests are built from them: made once per row version, kept in bounded caches.
import type { EndpointRow, HookRow } from '../db/schema.js';
import { loadReceiverAuth, loadSigningSecrets } from '../modules/endpoints/endpoint.service.js';
import { loadSigningKeySeeds, signatureSchemesOf } from '../modules/endpoints/endpoint.signing-keys.js';
import type { Services } from '../services.js';
import { LruCache } from '../lru-cache.js';
import type { HttpMethod, PayloadFormat } from '../webhook/request.js';
import { secretKey } from '../webhook/signing.js';
import type { EndpointSpec, HookSpec } from './deliverer.js';

/** Decrypted credentials are read again after this long, so a rotated or expired secret takes effect. */
const CREDENTIALS_TTL_MS = 5_000;
/** Specs kept per cache: an evicted one is only made again (one read of its secrets). */
export const SPEC_CACHE_LIMIT = 1_000;

interface LoadedEndpoint {
  /** id@updated_at of the row it was made from */
  key: string;
  loadedAt: number;
  spec: EndpointSpec;
}

const endpointKey = (endpoint: EndpointRow) => `${endpoint.id}@${endpoint.updated_at}`;

export class SpecCache {
  private readonly endpoints: LruCache<LoadedEndpoint>;
  private readonly hooks: LruCache<HookSpec>;
  /** numbers each load, so a reloaded spec has a new ref (the HTTP thread keys its copy by ref) */
  private endpointLoads = 0;
  /** loads under way by id@updated_at: the requests that find a spec missing or expired together share one */
  private readonly endpointsLoading = new Map<string, Promise<EndpointSpec>>();

  constructor(
    private readonly services: Services,
    limit = SPEC_CACHE_LIMIT,
  ) {
    this.endpoints = new LruCache(limit);
    this.hooks = new LruCache(limit);
  }

  /** The hook as requests are built from it, made once per version. */
  hook(hook: HookRow): HookSpec {
    const ref = `${hook.id}@${hook.updated_at}`;
    let spec = this.hooks.get(hook.id);
    if (spec === undefined || spec.ref !== ref) {
      spec = {
        ref,
        id: hook.id,
        name: hook.name,
        method: hook.method as HttpMethod,
        path: hook.path,
        format: hook.format as PayloadFormat,
        transform: hook.transform,
        template: hook.template,
        settings: hook.settings,
        secrets: hook.secrets === null ? '{}' : this.services.cipher.decrypt(hook.secrets),
        headers: hook.headers,
      };
      this.hooks.set(hook.id, spec);
    }
    return spec;
  }

  /** The loaded spec of this version of the endpoint, unless it is CREDENTIALS_TTL_MS old (secrets expire by time). */
  currentEndpoint(endpoint: EndpointRow, now: number): EndpointSpec | undefined {
    const loaded = this.endpoints.get(endpoint.id);
    return loaded && loaded.key === endpointKey(endpoint) && now - loaded.loadedAt < CREDENTIALS_TTL_MS ? loaded.spec : undefined;
  }

  /**
   * The endpoint with its decrypted credentials, loaded again after an update or CREDENTIALS_TTL_MS.
   * Every request in flight to an endpoint finds its spec expired at the same moment: they wait for
   * one load, instead of each reading and decrypting the secrets, and each sending the HTTP thread a
   * spec of its own.
   */
  loadEndpoint(endpoint: EndpointRow, now: number): Promise<EndpointSpec> {
    const key = endpointKey(endpoint);
    let loading = this.endpointsLoading.get(key);
    if (loading === undefined) {
      loading = this.load(endpoint, key, now).finally(() => this.endpointsLoading.delete(key));
      this.endpointsLoading.set(key, loading);
    }
    return loading;
  }

  private async load(endpoint: EndpointRow, key: string, now: number): Promise<EndpointSpec> {
    const schemes = signatureSchemesOf(endpoint);
    const secrets = await loadSigningSecrets(this.services, endpoint.id, now);
    const loaded: LoadedEndpoint = {
      key,
      loadedAt: now,
      spec: {
        ref: `${key}#${++this.endpointLoads}`,
        id: endpoint.id,
        url: endpoint.url,
        headers: endpoint.headers,
        auth: loadReceiverAuth(this.services, endpoint),
        // each key in memory of its own, not a view into a shared slab: it crosses to the HTTP thread with every new ref
        secrets: secrets.map((secret) => new Uint8Array(secretKey(secret))),
        signatureSchemes: schemes,
        // read only when used: most endpoints sign with V1 alone
        signingKeys: schemes.includes('V1A') ? (await loadSigningKeySeeds(this.services, endpoint.id, now)).map((seed) => new Uint8Array(seed)) : [],
        bodyHmacKey: schemes.includes('GITHUB_SHA256') && secrets[0] !== undefined ? new Uint8Array(Buffer.from(secrets[0], 'utf8')) : null,
      },
    };
    this.endpoints.set(endpoint.id, loaded);
    return loaded.spec;
  }
}
