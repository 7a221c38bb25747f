// A transform or template can parse and still fail on every event (an unknown JSONata function, a
// placeholder no payload has): run it at save on the payloads the tenant has told us about, so the
// failure is a ValidationError at the field instead of failed deliveries later.
import { parseJson } from '../../db/json.js';
import type { ProblemList } from '../../errors.js';
import type { Services } from '../../services.js';
import { listEventTypeExamples } from '../event-types/event-type.repository.js';
import { fillBodyTemplate, type BodyTemplate } from '../../webhook/body-template.js';
import { eventTypeMatcher } from '../../webhook/event-type-pattern.js';
import { RequestBuildError } from '../../webhook/request-error.js';
import { buildTemplateScope, mayReadCaptures } from '../../webhook/template-scope.js';
import { runTransform } from '../../webhook/transform.js';

/** Examples tried per save: enough to catch a shape the examples disagree on, bounded for a hook on `*`. */
const MAX_SAMPLES = 10;

export interface DryRunHook {
  /** null while creating: the id does not exist yet */
  id: string | null;
  name: string;
  tenant: { id: string; name: string };
  eventTypes: readonly string[];
  channels: readonly string[];
  transform: string | null;
  template: BodyTemplate | null;
  settings: Record<string, unknown>;
  /** decrypted; a transform may read them, and fail without them */
  secrets: Record<string, unknown>;
  /** the hook's saved test payload, tried first and alone when present */
  testPayload: unknown;
}

interface Sample {
  type: string;
  payload: unknown;
  /** how a problem names it */
  label: string;
}

async function samples(services: Services, hook: DryRunHook): Promise<Sample[]> {
  const matches = eventTypeMatcher(hook.eventTypes);
  const types = (await listEventTypeExamples(services.db)).filter((row) => matches(row.name));
  if (hook.testPayload !== null && hook.testPayload !== undefined) {
    return [{ type: types[0]?.name ?? hook.eventTypes[0] ?? 'test', payload: hook.testPayload, label: 'the test payload' }];
  }
  const found: Sample[] = [];
  for (const type of types) {
    parseJson<unknown[]>(type.examples).forEach((payload, index) => {
      if (found.length < MAX_SAMPLES) found.push({ type: type.name, payload, label: `example ${index + 1} of ${type.name}` });
    });
  }
  return found;
}

/**
 * Runs the hook's transform or template (whichever it has) over each sample payload and adds the
 * first failure to `problems` at the field. Without a test payload or examples there is nothing to
 * run it on, and nothing is added; nor is anything for one that reads `captures`. Errors other than RequestBuildError are not the hook's and propagate.
 */
export async function dryRunBodyShaper(services: Services, hook: DryRunHook, problems: ProblemList): Promise<void> {
  if (hook.transform === null && hook.template === null) return;
  // What the hooks it runs after capture comes from responses no save can know.
  if (mayReadCaptures([hook.transform, hook.template === null ? null : JSON.stringify(hook.template.body)])) return;
  const now = new Date(services.clock.now());
  for (const sample of await samples(services, hook)) {
    const scope = buildTemplateScope({
      event: { id: 'msg_dry_run', type: sample.type, payload: sample.payload, channels: [...hook.channels], occurredAt: now, createdAt: now },
      hook: { id: hook.id ?? 'hook_dry_run', name: hook.name, settings: hook.settings, secrets: hook.secrets },
      tenant: hook.tenant,
    });
    try {
      if (hook.transform !== null) await runTransform(hook.transform, scope);
      else if (hook.template !== null) fillBodyTemplate(hook.template, scope);
    } catch (error) {
      if (!(error instanceof RequestBuildError)) throw error;
      problems.add(['input', hook.transform !== null ? 'transform' : 'template'], `fails on ${sample.label}: ${error.message}`);
      return;
    }
  }
}
