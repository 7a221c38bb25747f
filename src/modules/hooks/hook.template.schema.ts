// The GraphQL shape of a hook's body template, beside the hook's own schema file: the kind enum,
// the stored template as it is read, and the input it is saved from.
import { builder } from '../../graphql/builder.js';
import { BODY_TEMPLATE_CONTENT_TYPES, type BodyTemplate } from '../../webhook/body-template.js';

export const BodyTemplateKindEnum = builder.enumType('BodyTemplateKind', {
  description: 'What a body template is and the content type it is sent with.',
  values: {
    JSON: { description: '`application/json`: a JSON value; a string that is one `{{path}}` keeps the value\'s type, placeholders in longer strings are stringified.' },
    TEXT: { description: '`text/plain; charset=utf-8`: a string; values are inserted as text (JSON for objects and arrays).' },
    FORM: { description: '`application/x-www-form-urlencoded`: a string such as `id={{data.id}}`; each inserted value is form-encoded.' },
  } as const,
});

export const BodyTemplateRef = builder.objectRef<BodyTemplate>('BodyTemplate').implement({
  description: 'A body made from `{{path}}` placeholders over `{event, data, settings, secrets, hook, tenant, captures}` (the roots a transform sees).',
  fields: (t) => ({
    kind: t.field({ type: BodyTemplateKindEnum, description: 'JSON, TEXT or FORM.', resolve: (template) => template.kind }),
    body: t.field({ type: 'JSON', description: 'The template: a JSON value for JSON, a string for TEXT and FORM.', resolve: (template) => template.body }),
    contentType: t.string({ description: 'The content type it is sent with.', resolve: (template) => BODY_TEMPLATE_CONTENT_TYPES[template.kind] }),
  }),
});

export const BodyTemplateInputRef = builder.inputType('BodyTemplateInput', {
  description: 'A body template; it replaces the body as a transform does (a hook has one or the other). Checked, and tried on the test payload or the event types\' examples, at save.',
  fields: (t) => ({
    kind: t.field({ type: BodyTemplateKindEnum, defaultValue: 'JSON', required: true, description: 'JSON (the default), TEXT or FORM.' }),
    body: t.field({ type: 'JSON', required: true, description: 'At most 64 KiB of JSON: a JSON value for JSON, a string for TEXT and FORM.' }),
  }),
});
