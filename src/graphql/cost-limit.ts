// The cost limit as an Envelop plugin: checked after validation, with the variables known, before a
// resolver runs; on HTTP, SSE and graphql-ws alike (the WebSocket server executes through the same
// envelop). A refused operation answers one error with its cost and the limit, and runs nothing.
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { operationCost, selectedOperation, type CostOptions } from './cost.js';

export interface CostLimitOptions extends CostOptions {
  /** the most an operation may cost (see operationCost) */
  maxCost: number;
}

export const COST_LIMIT_CODE = 'COST_LIMIT_EXCEEDED';

function refusal(args: ExecutionArgs, options: CostLimitOptions): GraphQLError | null {
  const operation = selectedOperation(args.document, args.operationName);
  if (!operation) return null;
  const cost = operationCost(args.schema, args.document, operation, args.variableValues as Record<string, unknown> | null | undefined, options);
  if (cost <= options.maxCost) return null;
  return new GraphQLError(
    `the query may return ${cost} items, over the limit of ${options.maxCost}: ask for smaller pages (\`first\`) or fewer nested lists`,
    { extensions: { code: COST_LIMIT_CODE, cost, maxCost: options.maxCost } },
  );
}

export function useCostLimit(options: CostLimitOptions): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = refusal(args, options);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = refusal(args, options);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
