// A limit on how deep a GraphQL document's brackets nest, checked on the text before it is parsed.
// graphql-js parses, validates and coerces literals recursively, so `[[[…]]]` or `{a:{a:…}}` a few
// thousand levels deep overflows the stack and answers a 500; graphql-armor's depth limit counts
// selections only, after parsing. A scan of the text is linear and cannot overflow.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Levels of `{`, `[` and `(` a document may nest: field selections plus literal values of MAX_JSON_DEPTH. */
export const MAX_DOCUMENT_NESTING = 160;

/** The deepest bracket nesting of a GraphQL document's text, outside strings and comments. */
export function documentNesting(source: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x23 /* # */) {
      while (i < source.length && source.charCodeAt(i) !== 0x0a && source.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22 /* " */) {
      if (source.startsWith('"""', i)) {
        // a block string ends at the next """ that is not escaped as \"""
        let close = source.indexOf('"""', i + 3);
        while (close > 0 && source.charCodeAt(close - 1) === 0x5c) close = source.indexOf('"""', close + 3);
        i = close < 0 ? source.length : close + 2;
      } else {
        i++;
        while (i < source.length && source.charCodeAt(i) !== 0x22) i += source.charCodeAt(i) === 0x5c ? 2 : 1;
      }
    } else if (c === 0x7b || c === 0x5b || c === 0x28) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x7d || c === 0x5d || c === 0x29) {
      depth--;
    }
  }
  return deepest;
}

export function useDocumentNestingLimit(maxNesting: number = MAX_DOCUMENT_NESTING): Plugin {
  return {
    onParse({ params }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      const nesting = documentNesting(source);
      if (nesting > maxNesting) {
        throw new GraphQLError(`the document nests ${nesting} levels of brackets, over the limit of ${maxNesting}`, {
          extensions: { code: 'GRAPHQL_PARSE_FAILED', http: { status: 400 } },
        });
      }
    },
  };
}
