// Regular expressions written by tenants (filter `$regex`, JSONata regex literals in transforms) run
// on a linear-time engine: RE2's algorithm (re2js, a pure-JS port, so nothing native to build), where
// a match costs time proportional to the input whatever the pattern. The JS engine backtracks:
// `.*.*.*x` or `^(a|a)*$` over a few hundred characters holds the event loop for seconds. What RE2
// cannot run in linear time (backreferences, lookaround) it refuses to compile, and so do we, at save.
import { RE2JS } from 're2js';

/** A pattern RE2 refuses, with its reason. */
export class UnsupportedRegexError extends Error {
  constructor(readonly pattern: string, reason: string) {
    super(`is not a regular expression this service can run in linear time (${reason}); backreferences and lookaround are not supported`);
    this.name = 'UnsupportedRegexError';
  }
}

const FLAG_BITS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL };

/** JavaScript's `\uXXXX` and `\u{X…}` escapes as RE2 spells them (`\x{…}`); an escaped backslash stays. */
function withRe2Escapes(pattern: string): string {
  return pattern.replace(/(\\+)u(?:\{([0-9a-fA-F]{1,6})\}|([0-9a-fA-F]{4}))/g, (match, slashes: string, braced?: string, four?: string) =>
    slashes.length % 2 === 1 ? `${slashes}x{${braced ?? four}}` : match,
  );
}

/** Compiles `pattern` (JS flags i, m, s; g and y only steer iteration) or throws UnsupportedRegexError. */
export function compileLinear(pattern: string, flags = ''): RE2JS {
  let bits = 0;
  for (const flag of flags) bits |= FLAG_BITS[flag] ?? 0;
  try {
    return RE2JS.compile(withRe2Escapes(pattern), bits);
  } catch (error) {
    throw new UnsupportedRegexError(pattern, (error as Error).message.replace(/^error parsing regexp: /, ''));
  }
}

/** Whether `pattern` matches somewhere in `input`. */
export function testLinear(regex: RE2JS, input: string): boolean {
  return regex.matcher(input).find();
}

/**
 * The shape of RegExp that JSONata's `RegexEngine` option asks for: constructed from a regex
 * literal, then `exec` from `lastIndex`, which `exec` moves past each match.
 */
export class LinearRegExp {
  lastIndex = 0;
  private readonly regex: RE2JS;

  constructor(pattern: RegExp | string, flags?: string) {
    const source = typeof pattern === 'string' ? pattern : pattern.source;
    this.regex = compileLinear(source, flags ?? (typeof pattern === 'string' ? '' : pattern.flags));
  }

  exec(input: string): RegExpExecArray | null {
    const matcher = this.regex.matcher(input);
    if (this.lastIndex > input.length || !matcher.find(this.lastIndex)) {
      this.lastIndex = 0;
      return null;
    }
    const groups: (string | undefined)[] = [];
    for (let group = 0; group <= matcher.groupCount(); group++) groups.push(matcher.group(group) ?? undefined);
    const match = Object.assign(groups, { index: matcher.start(), input }) as unknown as RegExpExecArray;
    this.lastIndex = matcher.end();
    return match;
  }

  test(input: string): boolean {
    return this.exec(input) !== null;
  }
}
