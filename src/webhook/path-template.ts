// A hook's `path`: an RFC 6570 URI template, read once here for both of its uses: checked against
// the grammar when a hook is saved, and expanded over the template scope for every request.
// url-template expands, but accepts any string and skips what it cannot read, so a typo would
// silently expand to the wrong URL: the grammar check below is what refuses it, and the
// expression reader mirrors url-template's so we resolve exactly the names it will look up.
import { parseTemplate, type PrimitiveValue, type Template } from 'url-template';
import { hookTextCache } from './hook-text-cache.js';
import { RequestBuildError } from './request-error.js';
import { TEMPLATE_SCOPE_ROOTS, isScopePath, lookupInScope, type TemplateScope } from './template-scope.js';

/** RFC 6570 section 2.2: an expression's first character, when it is one of these, is its operator. */
const OPERATORS = '+#./;?&';
/** Reserved by RFC 6570 for future extensions; url-template would read them as part of the name. */
const FUTURE_OPERATORS = '=,!@|';
/** In `{?…}`, `{&…}` and `{#…}` RFC 6570 omits an undefined variable harmlessly. */
const OPTIONAL_OPERATORS = '?&#';
/** An expression as url-template finds them: braces around anything but braces. */
const EXPRESSION = /\{([^{}]+)\}/g;
const VARNAME = /^(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+(?:\.(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+)*$/;
const MODIFIER = /^(?::[1-9][0-9]{0,3}|\*)?$/;
const LITERAL_FORBIDDEN = /[\x00-\x20"'<>\\^`|\x7f]/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
/** RFC 3986 scheme followed by ':' — an absolute URL, not a path. */
const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

interface VariableSpec {
  /** dot path over the scope, e.g. `data.customer.id` */
  name: string;
  /** `:3`, `*` or '' as written (not yet checked) */
  modifier: string;
}

interface TemplateExpression {
  /** one of OPERATORS, or '' */
  operator: string;
  /** the text after the operator */
  variableList: string;
  specs: VariableSpec[];
}

/** The body of one `{…}` read the way url-template reads it. */
function readExpression(body: string): TemplateExpression {
  const operator = OPERATORS.includes(body.charAt(0)) ? body.charAt(0) : '';
  const variableList = operator === '' ? body : body.slice(1);
  const specs = variableList.split(',').map((spec) => {
    const [, name = '', modifier = ''] = /^([^:*]*)(.*)$/.exec(spec) ?? [];
    return { name, modifier };
  });
  return { operator, variableList, specs };
}

/** Whether a path expands to something other than a path on the endpoint's origin. */
const leavesOrigin = (expanded: string) => HAS_SCHEME.test(expanded) || expanded.startsWith('//');

// ---------------------------------------------------------------------------------------------
// Validation (when a hook is saved)

/** Every problem of a path template against the RFC 6570 grammar and the template scope, as messages. */
export function pathTemplateProblems(source: string): string[] {
  const problems: string[] = [];
  const names: string[] = [];
  let literal = '';
  const checkLiteral = () => {
    const bad = LITERAL_FORBIDDEN.exec(literal);
    if (bad) problems.push(`literal text may not contain ${JSON.stringify(bad[0])} (percent-encode it)`);
    if (BAD_PERCENT.test(literal)) problems.push('a "%" in literal text must start a percent-encoded byte like %20');
    literal = '';
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '}') {
      problems.push(`unexpected "}" at position ${i}`);
    } else if (c === '{') {
      const close = source.indexOf('}', i + 1);
      const nextOpen = source.indexOf('{', i + 1);
      if (close === -1 || (nextOpen !== -1 && nextOpen < close)) {
        problems.push(`the expression opened at position ${i} is not closed with "}"`);
        break;
      }
      checkLiteral();
      expressionProblems(source.slice(i + 1, close), i, problems, names);
      i = close;
    } else {
      literal += c;
    }
  }
  checkLiteral();
  for (const name of names) {
    if (!isScopePath(name)) {
      problems.push(`variable "${name}" must start with one of ${TEMPLATE_SCOPE_ROOTS.map((r) => `${r}.`).join(', ')}`);
    }
  }
  if (problems.length > 0) return problems;
  // A trial expansion: the request must stay on the endpoint's origin whatever the values are
  // (resolvePathTemplate refuses it again per event, but a hook that can never be sent should not be saved).
  const sample = Object.fromEntries(names.map((name) => [name, 'x']));
  if (leavesOrigin(parseTemplate(source).expand(sample))) {
    problems.push("must be a path: it may not change the endpoint's scheme, host or port");
  }
  return problems;
}

function expressionProblems(body: string, at: number, problems: string[], names: string[]): void {
  const first = body.charAt(0);
  if (FUTURE_OPERATORS.includes(first)) {
    problems.push(`the operator "${first}" at position ${at + 1} is reserved and not supported`);
    return;
  }
  const expression = readExpression(body);
  if (expression.variableList === '') {
    problems.push(`the expression at position ${at} names no variable`);
    return;
  }
  for (const { name, modifier } of expression.specs) {
    if (!VARNAME.test(name)) {
      problems.push(`"${name}" at position ${at} is not a variable name (letters, digits, "_", joined by ".")`);
    } else if (!MODIFIER.test(modifier)) {
      problems.push(`"${modifier}" after "${name}" is not a modifier (":1" to ":9999", or "*")`);
    } else {
      names.push(name);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Expansion (for every request)

interface TemplateVariable {
  name: string;
  optional: boolean;
}

interface ParsedPath {
  template: Template;
  variables: TemplateVariable[];
}

const paths = hookTextCache<ParsedPath>();

function parsePath(source: string): ParsedPath {
  let parsed = paths.get(source);
  if (parsed === undefined) {
    const variables: TemplateVariable[] = [];
    for (const match of source.matchAll(EXPRESSION)) {
      const { operator, specs } = readExpression(match[1] ?? '');
      const optional = operator !== '' && OPTIONAL_OPERATORS.includes(operator);
      for (const { name } of specs) if (name !== '') variables.push({ name, optional });
    }
    parsed = { template: parseTemplate(source), variables };
    paths.set(source, parsed);
  }
  return parsed;
}

type TemplateValue = PrimitiveValue | PrimitiveValue[] | Record<string, PrimitiveValue | PrimitiveValue[]>;

function isPrimitive(value: unknown): value is PrimitiveValue {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

/** A value url-template can expand as RFC 6570 intends (primitive, list, or flat associative array), else null. */
function templateValue(value: unknown): TemplateValue | null {
  if (isPrimitive(value)) return value;
  if (Array.isArray(value)) return value.every(isPrimitive) ? value : null;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.values(value);
    const flat = entries.every((entry) => isPrimitive(entry) || (Array.isArray(entry) && entry.every(isPrimitive)));
    return flat ? (value as Record<string, PrimitiveValue | PrimitiveValue[]>) : null;
  }
  return null;
}

function pathError(source: string, reason: string): RequestBuildError {
  return new RequestBuildError('path', `path template ${JSON.stringify(source)}: ${reason}`);
}

/**
 * Expands the hook's path template and appends it to the endpoint url's path (the endpoint url is a
 * directory: `https://x.test/hooks` + `/documents/{data.id}` → `https://x.test/hooks/documents/42`).
 * The endpoint's query comes first, then the template's (duplicates are kept); a fragment is dropped
 * since it is never sent. The request must stay on the endpoint's origin and under its path, so an
 * absolute or network-path reference and any `.`/`..` segment are refused.
 *
 * Throws {@link RequestBuildError} (stage `path`) when a variable has no usable value for this event
 * or the expansion would leave the endpoint.
 */
export function resolvePathTemplate(source: string, endpointUrl: string, scope: TemplateScope): string {
  const { template, variables } = parsePath(source);
  const values: Record<string, TemplateValue> = {};
  for (const { name, optional } of variables) {
    const raw = lookupInScope(scope, name);
    if (isEmpty(raw)) {
      // An empty `{data.id}` in `DELETE /documents/{data.id}` would address the whole collection.
      if (optional) continue;
      throw pathError(source, `variable "${name}" has no value for this event`);
    }
    const value = templateValue(raw);
    if (value === null) throw pathError(source, `variable "${name}" is a nested object or array, not a value`);
    values[name] = value;
  }

  let expanded = template.expand(values);
  const hash = expanded.indexOf('#');
  if (hash !== -1) expanded = expanded.slice(0, hash);
  const question = expanded.indexOf('?');
  const pathPart = question === -1 ? expanded : expanded.slice(0, question);
  const queryPart = question === -1 ? '' : expanded.slice(question + 1);

  // Values expanded with {var} are percent-encoded, so these can only come from the template's
  // literal text or a {+var} reserved expansion — still refused, the origin is not the hook's to change.
  if (leavesOrigin(pathPart)) {
    throw pathError(source, 'expands to an absolute URL; a path may not change the endpoint\'s scheme, host or port');
  }
  for (const segment of pathPart.split('/')) {
    // WHATWG URL treats %2e as '.', so the encoded spellings would climb out of the endpoint path as well.
    const decoded = segment.replace(/%2e/gi, '.');
    if (decoded === '.' || decoded === '..') {
      throw pathError(source, 'expands to a "." or ".." segment, which would leave the endpoint\'s path');
    }
  }

  let base: URL;
  try {
    base = new URL(endpointUrl);
  } catch {
    throw pathError(source, 'the endpoint url is not a valid absolute URL');
  }
  const url = new URL(base.href);
  if (pathPart !== '') {
    url.pathname = `${base.pathname.replace(/\/+$/, '')}/${pathPart.replace(/^\//, '')}`;
  }
  const endpointQuery = base.search.slice(1);
  const query = endpointQuery !== '' && queryPart !== '' ? `${endpointQuery}&${queryPart}` : endpointQuery || queryPart;
  url.search = query === '' ? '' : `?${query}`;
  url.hash = '';
  if (url.origin !== base.origin) {
    throw pathError(source, 'would change the endpoint\'s origin');
  }
  return url.href;
}
