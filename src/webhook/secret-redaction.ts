// A hook's secrets may end up anywhere in a request (a header, the path, the body, transformed): the
// copy kept in the attempt log has every secret value replaced, in each spelling it can take there
// (as is, JSON-escaped, percent-encoded), wherever it appears.

export const REDACTED = '[redacted]';

/** Values shorter than this are not redacted: "1" or "a" would blank out unrelated text all over the log. */
const MIN_REDACTED_LENGTH = 4;

/** Every string (and number) among the secrets' values, longest first, so a value inside another is not half-replaced. */
export function secretValues(secrets: Record<string, unknown>): string[] {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string' || typeof value === 'number') {
      const text = String(value);
      if (text.length >= MIN_REDACTED_LENGTH) found.add(text);
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(secrets);
  return [...found].sort((a, b) => b.length - a.length);
}

/** `text` with each of `values` (as is, JSON-escaped and percent-encoded) replaced by {@link REDACTED}. */
export function redactValues(text: string, values: readonly string[]): string {
  let out = text;
  for (const value of values) {
    for (const spelling of new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)])) {
      if (spelling.length > 0) out = out.split(spelling).join(REDACTED);
    }
  }
  return out;
}
