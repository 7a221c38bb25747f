// Portal links: a short-lived tenant token (the existing token machinery, with `expires_at`) wrapped in
// a console URL the producer hands its customer or embeds. The token travels in the URL fragment, so
// it never reaches server logs or a Referer header; the console keeps it for the tab's session only.
import type { TokenRow } from '../../db/schema.js';
import { ProblemList } from '../../errors.js';
import { builder } from '../../graphql/builder.js';
import { defineMutation } from '../../graphql/mutation.js';
import { ApiTokenRef, TokenScopeEnum } from './token.schema.js';
import { createTenantToken } from './token.service.js';

/** Longest a portal session may live: a link is a bearer credential in someone's browser history. */
export const PORTAL_MAX_TTL_SECONDS = 24 * 3600;
export const PORTAL_MIN_TTL_SECONDS = 60;
export const PORTAL_DEFAULT_TTL_SECONDS = 3600;

const PortalSessionPayload = builder
  .objectRef<{ token: TokenRow; secret: string; url: string }>('PortalSessionPayload')
  .implement({
    description: 'A portal session: its console URL (carrying the session token) and the token record, to revoke it early.',
    fields: (t) => ({
      url: t.exposeString('url', {
        description: 'The console URL to hand over or embed; absolute when SWITCHYARD_PUBLIC_URL is set, else a path.',
      }),
      token: t.exposeString('secret', { description: 'The session token itself (also inside `url`); shown this once.' }),
      expiresAt: t.field({ type: 'DateTime', description: 'When the session stops working.', resolve: (p) => new Date(p.token.expires_at ?? 0) }),
      apiToken: t.field({ type: ApiTokenRef, description: 'The token record; `revokeApiToken` ends the session at once.', resolve: (p) => p.token }),
    }),
  });

defineMutation('createPortalSession', {
  description: "Mints a short-lived console session for one tenant (admin only) and returns the link to the tenant's console.",
  authScopes: { admin: true },
  input: (t) => ({
    tenantId: t.id({ required: true, description: 'The tenant the session acts for.' }),
    scopes: t.field({ type: [TokenScopeEnum], description: 'What the session may do (default READ and MANAGE).' }),
    ttlSeconds: t.int({
      description: `Lifetime in seconds, ${PORTAL_MIN_TTL_SECONDS} to ${PORTAL_MAX_TTL_SECONDS} (default ${PORTAL_DEFAULT_TTL_SECONDS}).`,
    }),
    name: t.string({ description: 'A label for the session token (default "portal session").' }),
    trustedDocumentsOnly: t.boolean({
      description: "Run only the trusted documents (the SDK's operations, which the console sends); default true.",
    }),
  }),
  payload: PortalSessionPayload,
  resolve: async (input, context) => {
    const ttl = input.ttlSeconds ?? PORTAL_DEFAULT_TTL_SECONDS;
    const problems = new ProblemList();
    if (ttl < PORTAL_MIN_TTL_SECONDS || ttl > PORTAL_MAX_TTL_SECONDS) {
      problems.add(['input', 'ttlSeconds'], `must be between ${PORTAL_MIN_TTL_SECONDS} and ${PORTAL_MAX_TTL_SECONDS} seconds`);
    }
    problems.throwIfAny();
    const { services } = context;
    const { token, secret } = await createTenantToken(services, {
      tenantId: String(input.tenantId),
      name: input.name ?? 'portal session',
      scopes: input.scopes ?? null,
      expiresAt: new Date(services.clock.now() + ttl * 1000),
      // the console sends only the SDK's operations, so a leaked link can run nothing else
      trustedDocumentsOnly: input.trustedDocumentsOnly ?? true,
    });
    const url = `${services.config.publicUrl ?? ''}/console/#portal=${encodeURIComponent(secret)}`;
    return { token, secret, url };
  },
});
