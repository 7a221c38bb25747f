// A hook's body template: a JSON value whose strings hold `{{path}}` placeholders, or a text body
// (plain or form-encoded) with the same placeholders, filled from the template scope.
//
// Written here rather than taken from Mustache or Handlebars: those escape for HTML by default,
// bring sections, partials and helpers (logic a hook would then have to be refused and bounded in),
// resolve names up a context stack and through prototypes, and have no notion of a placeholder
// keeping its value's JSON type. What is needed is a scan for `{{…}}` and the own-property lookup the
// path templates already use.
import { hookTextCache } from './hook-text-cache.js';
import { RequestBuildError } from './request-error.js';
import { TEMPLATE_SCOPE_ROOTS, isScopePath, lookupInScope, type TemplateScope } from './template-scope.js';
import { MAX_TRANSFORM_BODY_BYTES } from './transform.js';

/** How the filled template is sent; the JSON kind keeps placeholder types, the text kinds stringify. */
export type BodyTemplateKind = 'JSON' | 'TEXT' | 'FORM';

export const BODY_TEMPLATE_CONTENT_TYPES: Record<BodyTemplateKind, string> = {
  JSON: 'application/json',
  TEXT: 'text/plain; charset=utf-8',
  FORM: 'application/x-www-form-urlencoded',
};

/** A stored template: for JSON any JSON value, for the text kinds a string. */
export interface BodyTemplate {
  kind: BodyTemplateKind;
  body: unknown;
}

/** A template problem and where it is inside the template's body (JSON keys and indices). */
export interface TemplateProblem {
  path: string[];
  message: string;
}

const OPEN = '{{';
const CLOSE = '}}';
/** Dot path of names or indices: `data.items.0.id`. */
const PLACEHOLDER_PATH = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

type Segment = { literal: string } | { path: string };

/** The text split into literals and placeholders, or the problems that stop it being read. */
function parseText(text: string): { segments: Segment[]; problems: string[] } {
  const segments: Segment[] = [];
  const problems: string[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf(OPEN, at);
    if (open === -1) {
      segments.push({ literal: text.slice(at) });
      break;
    }
    if (open > at) segments.push({ literal: text.slice(at, open) });
    const close = text.indexOf(CLOSE, open + OPEN.length);
    if (close === -1) {
      problems.push(`the placeholder opened at position ${open} is not closed with "}}"`);
      break;
    }
    const path = text.slice(open + OPEN.length, close).trim();
    if (!PLACEHOLDER_PATH.test(path)) {
      problems.push(`"{{${text.slice(open + OPEN.length, close)}}}" at position ${open} is not a path like {{data.id}}`);
    } else if (!isScopePath(path)) {
      problems.push(`{{${path}}} must start with one of ${TEMPLATE_SCOPE_ROOTS.map((r) => `${r}.`).join(', ')}`);
    } else {
      segments.push({ path });
    }
    at = close + CLOSE.length;
  }
  return { segments, problems };
}

/** Every problem of a template, with its place inside the body; empty when it can be filled. */
export function bodyTemplateProblems(template: BodyTemplate): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  if (template.kind !== 'JSON') {
    if (typeof template.body !== 'string') return [{ path: [], message: `a ${template.kind} template is a string` }];
    return parseText(template.body).problems.map((message) => ({ path: [], message }));
  }
  // Iterative: a deeply nested template must not exhaust the stack at save.
  const pending: { value: unknown; path: string[] }[] = [{ value: template.body, path: [] }];
  while (pending.length > 0) {
    const { value, path } = pending.pop()!;
    if (typeof value === 'string') {
      for (const message of parseText(value).problems) problems.push({ path, message });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push({ value: item, path: [...path, String(index)] }));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) pending.push({ value: item, path: [...path, key] });
    }
  }
  return problems.reverse();
}

function templateError(reason: string): RequestBuildError {
  return new RequestBuildError('template', `template ${reason}`);
}

function valueOf(scope: TemplateScope, path: string): unknown {
  const value = lookupInScope(scope, path);
  // As with transforms: a path that matches nothing is a mapping bug, not an empty value to send.
  if (value === undefined) throw templateError(`placeholder {{${path}}} has no value for this event`);
  return value;
}

/** A value as text inside a longer string: strings as they are, anything else as its JSON. */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** application/x-www-form-urlencoded encoding of one substituted value (the template's own text is sent as written). */
function formEncode(text: string): string {
  return encodeURIComponent(text).replace(/%20/g, '+');
}

const parsedTexts = hookTextCache<Segment[]>();

function segmentsOf(text: string): Segment[] {
  // Most strings of a JSON template are plain text: not worth a cache entry.
  if (!text.includes(OPEN)) return [{ literal: text }];
  let segments = parsedTexts.get(text);
  if (segments === undefined) {
    const parsed = parseText(text);
    // Saved templates were checked; a stored one that no longer parses fails its deliveries visibly.
    if (parsed.problems.length > 0) throw templateError(parsed.problems[0]!);
    segments = parsed.segments;
    parsedTexts.set(text, segments);
  }
  return segments;
}

function fillText(text: string, scope: TemplateScope, encode: (text: string) => string): string {
  let out = '';
  for (const segment of segmentsOf(text)) out += 'literal' in segment ? segment.literal : encode(asText(valueOf(scope, segment.path)));
  return out;
}

function fillJson(value: unknown, scope: TemplateScope): unknown {
  if (typeof value === 'string') {
    const segments = segmentsOf(value);
    const only = segments.length === 1 ? segments[0]! : null;
    // A placeholder that is the whole string keeps its value's type: `"{{data.amount}}"` sends a number.
    if (only !== null && 'path' in only) return valueOf(scope, only.path);
    return fillText(value, scope, (text) => text);
  }
  if (Array.isArray(value)) return value.map((item) => fillJson(item, scope));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties: a `__proto__` key in the template stays a key of the body.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fillJson(item, scope)]));
  }
  return value;
}

/**
 * The body text of a template over `scope`, and its content type. Throws {@link RequestBuildError}
 * (stage `template`) when a placeholder has no value or the body would exceed MAX_TRANSFORM_BODY_BYTES.
 */
export function fillBodyTemplate(template: BodyTemplate, scope: TemplateScope): { text: string; contentType: string } {
  let text: string;
  if (template.kind === 'JSON') text = JSON.stringify(fillJson(template.body, scope)) ?? 'null';
  else if (typeof template.body !== 'string') throw templateError(`of kind ${template.kind} must be a string`);
  else text = fillText(template.body, scope, template.kind === 'FORM' ? formEncode : (part) => part);
  if (text.length * 3 > MAX_TRANSFORM_BODY_BYTES && Buffer.byteLength(text, 'utf8') > MAX_TRANSFORM_BODY_BYTES) {
    throw templateError(`result is larger than ${MAX_TRANSFORM_BODY_BYTES} bytes`);
  }
  return { text, contentType: BODY_TEMPLATE_CONTENT_TYPES[template.kind] };
}
