// A hook's secrets and its own headers. Secrets are a JSON object written through the API and never
// read back (only their keys are shown), kept encrypted with services.cipher, readable by the
// transform, the body template, the path template and the header values as `secrets`; the attempt
// log keeps none of their values (webhook/secret-redaction.ts). Header values take the same
// `{{path}}` placeholders as a text body template, so `authorization: Bearer {{secrets.token}}` works.
import { toJson } from '../../db/json.js';
import type { HookRow } from '../../db/schema.js';
import type { ProblemList } from '../../errors.js';
import type { Services } from '../../services.js';
import { bodyTemplateProblems } from '../../webhook/body-template.js';
import { checkHeaders } from '../endpoints/endpoint.validation.js';

/** Secrets are few and small: API keys, tokens, passwords. */
export const HOOK_MAX_SECRETS_BYTES = 16 * 1024;

export interface HookSecretsInput {
  /** undefined = keep; null = remove all; an object replaces them all */
  secrets?: Record<string, unknown> | null;
  /** undefined = keep; null = none */
  headers?: Record<string, unknown> | null;
}

export function checkSecretsAndHeaders(input: HookSecretsInput, problems: ProblemList): void {
  if (input.secrets !== undefined && input.secrets !== null && Buffer.byteLength(toJson(input.secrets), 'utf8') > HOOK_MAX_SECRETS_BYTES) {
    problems.add(['input', 'secrets'], `must be at most ${HOOK_MAX_SECRETS_BYTES} bytes as JSON`);
  }
  if (input.headers !== undefined && input.headers !== null) {
    const headers = checkHeaders(problems, input.headers);
    for (const [name, value] of Object.entries(headers)) {
      for (const problem of bodyTemplateProblems({ kind: 'TEXT', body: value })) problems.add(['input', 'headers', name], problem.message);
    }
  }
}

/** The columns of what `input` gives (absent ones are left out); secrets are encrypted here. */
export function secretsAndHeadersColumns(services: Services, input: HookSecretsInput): Partial<Pick<HookRow, 'secrets' | 'headers'>> {
  const columns: Partial<Pick<HookRow, 'secrets' | 'headers'>> = {};
  if (input.secrets !== undefined) {
    columns.secrets = input.secrets === null || Object.keys(input.secrets).length === 0 ? null : services.cipher.encrypt(toJson(input.secrets));
  }
  if (input.headers !== undefined) columns.headers = toJson(input.headers ?? {});
  return columns;
}

/** The hook's secrets, decrypted: for the dry run at save and the requests; never for the API. */
export function hookSecrets(services: Services, hook: Pick<HookRow, 'secrets'>): Record<string, unknown> {
  return hook.secrets === null ? {} : (JSON.parse(services.cipher.decrypt(hook.secrets)) as Record<string, unknown>);
}

/** The names of the hook's secrets, which the API shows. */
export function hookSecretKeys(services: Services, hook: Pick<HookRow, 'secrets'>): string[] {
  return Object.keys(hookSecrets(services, hook)).sort();
}
