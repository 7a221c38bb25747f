// How deep a JSON input may nest. Parsing, validating (ajv), storing (JSON.stringify) and matching
// (filters) all recurse, so a value nested a few thousand levels deep overflows the stack somewhere
// deep inside them; refusing it up front, with the path where it went too deep, is the clear answer.

/** Levels a JSON input (payload, testPayload, metadata, settings, variables) may nest, counted from the mutation's input. */
export const MAX_JSON_DEPTH = 128;

interface Frame {
  value: unknown;
  depth: number;
  key: string | null;
  parent: Frame | null;
}

/**
 * The path to the first value nested deeper than `maxDepth`, or null. Iterative on purpose: the
 * value it is asked about may be deep enough to overflow a recursive walk.
 */
export function pathTooDeep(value: unknown, maxDepth: number = MAX_JSON_DEPTH): string[] | null {
  const stack: Frame[] = [{ value, depth: 0, key: null, parent: null }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.value === null || typeof frame.value !== 'object') continue;
    if (frame.depth >= maxDepth) {
      const path: string[] = [];
      for (let at: Frame | null = frame; at?.key != null; at = at.parent) path.unshift(at.key);
      return path;
    }
    const container = frame.value as Record<string, unknown>;
    for (const key in container) stack.push({ value: container[key], depth: frame.depth + 1, key, parent: frame });
  }
  return null;
}
