// The cost limit as an Envelop plugin: checked after validation, with the variables known, before a
// resolver runs; on HTTP, SSE and graphql-ws alike (the WebSocket server executes through the same
// envelop). A refused operation answers one error with its cost and the limit, and runs nothing.
import { GraphQLError, type ExecutionArgs, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { measureOperation, selectedOperation, type CostOptions } from './cost.js';

export interface CostLimitOptions extends CostOptions {
  /** the most an operation may cost (see operationCost) */
  maxCost: number;
}

export const COST_LIMIT_CODE = 'COST_LIMIT_EXCEEDED';

/**
 * Costs of operations that read no variable, by operation: Yoga's parser cache hands the same
 * document to every request that sends the same text, so each such operation is walked once.
 */
type FixedCosts = WeakMap<OperationDefinitionNode, number>;

function refusal(args: ExecutionArgs, options: CostLimitOptions, fixedCosts: FixedCosts): GraphQLError | null {
  const operation = selectedOperation(args.document, args.operationName);
  if (!operation) return null;
  let cost = fixedCosts.get(operation);
  if (cost === undefined) {
    const measured = measureOperation(args.schema, args.document, operation, args.variableValues as Record<string, unknown> | null | undefined, options);
    cost = measured.cost;
    if (!measured.readsVariables) fixedCosts.set(operation, cost);
  }
  if (cost <= options.maxCost) return null;
  return new GraphQLError(
    `the query may return ${cost} items, over the limit of ${options.maxCost}: ask for smaller pages (\`first\`) or fewer nested lists`,
    { extensions: { code: COST_LIMIT_CODE, cost, maxCost: options.maxCost } },
  );
}

export function useCostLimit(options: CostLimitOptions): Plugin {
  // one per plugin: a cost holds for this schema and these options only
  const fixedCosts: FixedCosts = new WeakMap();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = refusal(args, options, fixedCosts);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = refusal(args, options, fixedCosts);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
