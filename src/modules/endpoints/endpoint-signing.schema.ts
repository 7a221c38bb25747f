// What the API shows of an endpoint's signature schemes: the schemes, the public halves of its
// ed25519 key pairs, and their rotation. The private keys never leave the server.
import type { EndpointSigningKeyRow } from '../../db/schema.js';
import { canSee } from '../../auth/actor.js';
import { MANAGE_SCOPES } from '../../graphql/access.js';
import { builder } from '../../graphql/builder.js';
import { defineMutation } from '../../graphql/mutation.js';
import type { EndpointRow } from '../../db/schema.js';
import { findEndpointById } from './endpoint.repository.js';
import { findSigningKeyById } from './endpoint-signing-key.repository.js';
import { EndpointRef } from './endpoint.schema.js';
import { rotateEndpointSigningKey, signatureSchemesOf, validSigningKeysOf } from './endpoint.signing-keys.js';
import { SignatureSchemeEnum } from './signature-scheme.schema.js';

export const EndpointSigningKeyRef = builder.objectRef<EndpointSigningKeyRow>('EndpointSigningKey');

builder.node(EndpointSigningKeyRef, {
  description: 'An ed25519 key pair an endpoint signs `v1a` with: its public key (the private key never leaves Switchyard).',
  id: { resolve: (key) => key.id },
  loadOne: async (id, context) => {
    const key = await findSigningKeyById(context.services.db, id);
    if (!key) return null;
    const endpoint = await findEndpointById(context.services.db, key.endpoint_id);
    return endpoint && canSee(context.actor, endpoint.tenant_id) ? key : null;
  },
  fields: (t) => ({
    publicKey: t.exposeString('public_key', { description: 'The Standard Webhooks public key, `whpk_` + base64 of the 32 ed25519 key bytes.' }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (k) => k.created_at }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it stops signing (set when rotated out); null for the current key.',
      resolve: (k) => k.expires_at,
    }),
    current: t.boolean({ description: 'Whether it is the current key (the newest one, without expiry).', resolve: (k) => k.expires_at === null }),
  }),
});

builder.objectFields(EndpointRef, (t) => ({
  signatureSchemes: t.field({
    type: [SignatureSchemeEnum],
    description: 'The signatures its requests carry.',
    resolve: (r) => signatureSchemesOf(r),
  }),
  signingPublicKeys: t.field({
    type: [EndpointSigningKeyRef],
    description:
      'The ed25519 keys `v1a` signatures are made with now, newest first: the current one and any rotated-out one still in its overlap. Empty until V1A is chosen.',
    resolve: (r, _args, context) => validSigningKeysOf(context.services, r.id, context.services.clock.now()),
  }),
}));

const RotateEndpointSigningKeyPayload = builder
  .objectRef<{ endpoint: EndpointRow; publicKey: string }>('RotateEndpointSigningKeyPayload')
  .implement({
    description: 'The new current key pair; the previous one keeps signing until its overlap ends.',
    fields: (t) => ({
      endpoint: t.field({ type: EndpointRef, description: 'The endpoint.', resolve: (p) => p.endpoint }),
      publicKey: t.exposeString('publicKey', { description: 'The new `whpk_…` public key.' }),
    }),
  });

defineMutation('rotateEndpointSigningKey', {
  description:
    'Makes a new ed25519 key pair for `v1a`; the previous one keeps signing for the overlap (default 24 h), so receivers can add the new public key first.',
  authScopes: MANAGE_SCOPES,
  input: (t) => ({ id: t.id({ required: true, description: 'The endpoint.' }) }),
  payload: RotateEndpointSigningKeyPayload,
  resolve: ({ id }, context) => rotateEndpointSigningKey(context.services, context.actor, id),
});
