// The SignatureScheme enum on its own, because both the endpoint inputs (endpoint.schema.ts) and the
// signing fields (endpoint-signing.schema.ts) use it and the latter imports the former.
import { builder } from '../../graphql/builder.js';

export const SignatureSchemeEnum = builder.enumType('SignatureScheme', {
  description: 'A signature an endpoint\'s requests carry; an endpoint lists one or more, V1 alone by default.',
  values: {
    V1: { description: 'Standard Webhooks `v1,<base64 HMAC-SHA256>` in `webhook-signature`, one entry per valid signing secret.' },
    V1A: {
      description:
        'Standard Webhooks `v1a,<base64 ed25519 signature>` in `webhook-signature`, one entry per valid key pair; receivers verify with `signingPublicKeys`.',
    },
    GITHUB_SHA256: {
      description:
        "GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, keyed with the current `whsec_…` secret's text, beside V1 or V1A (never alone).",
    },
  } as const,
});
