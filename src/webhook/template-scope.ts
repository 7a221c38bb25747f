// The view of one event that a hook's transform and path template read: both see the same names,
// so a hook author learns one vocabulary, and hook validation refuses any other root.

/** The top-level names of the scope; a path template variable must start with one of them. */
export const TEMPLATE_SCOPE_ROOTS = ['data', 'event', 'settings', 'secrets', 'tenant', 'hook', 'captures'] as const;

/** Whether a dotted path starts at one of the scope's roots (`data.id`, `secrets.token`). */
export function isScopePath(path: string): boolean {
  return TEMPLATE_SCOPE_ROOTS.some((root) => path === root || path.startsWith(`${root}.`));
}

/** The value at a dotted path of the scope; undefined where there is none. */
export function lookupInScope(scope: TemplateScope, path: string): unknown {
  let current: unknown = scope;
  for (const segment of path.split('.')) {
    // Own properties only: `data.constructor` must not reach into prototypes.
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** What a transform and a path template see. Dates are ISO strings: JSONata has no Date type. */
export interface TemplateScope {
  event: { id: string; type: string; channels: string[]; occurredAt: string; createdAt: string };
  data: unknown;
  settings: Record<string, unknown>;
  /** the hook's secrets, decrypted: readable here, never through the API, redacted in the attempt log */
  secrets: Record<string, unknown>;
  hook: { id: string; name: string };
  tenant: { id: string; name: string };
  /**
   * What the captures of the hooks this one runs after (runAfter) made of their responses to the same
   * event, by each such hook's id and by its name; a hook without a capture, or whose capture failed, is absent.
   */
  captures: Record<string, unknown>;
}

/** The parts of a request context the scope is made from. */
export interface TemplateScopeSource {
  event: { id: string; type: string; payload: unknown; channels: string[]; occurredAt: Date; createdAt: Date };
  hook: { id: string; name: string; settings: Record<string, unknown>; secrets: Record<string, unknown> };
  tenant: { id: string; name: string };
  /** TemplateScope.captures; absent for none */
  captures?: Record<string, unknown> | null;
}

const NO_CAPTURES: Record<string, unknown> = Object.freeze({});

export function buildTemplateScope({ event, hook, tenant, captures }: TemplateScopeSource): TemplateScope {
  return {
    event: {
      id: event.id,
      type: event.type,
      channels: event.channels,
      occurredAt: event.occurredAt.toISOString(),
      createdAt: event.createdAt.toISOString(),
    },
    data: event.payload,
    settings: hook.settings,
    secrets: hook.secrets,
    hook: { id: hook.id, name: hook.name },
    tenant: { id: tenant.id, name: tenant.name },
    captures: captures ?? NO_CAPTURES,
  };
}

/** Whether any of these texts (a transform, a path, a template, header values) may read the `captures` root. */
export function mayReadCaptures(texts: readonly (string | null)[]): boolean {
  return texts.some((text) => text !== null && text.includes('captures'));
}
