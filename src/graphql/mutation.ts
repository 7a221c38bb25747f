// One shape for every mutation: `verbNoun(input: VerbNounInput!): VerbNounResult!`, where the
// result is a union of the payload and the expected errors.
import type { InputFieldBuilder, InputFieldMap, InputShapeFromFields, ObjectRef } from '@pothos/core';
import { builder, type GraphQLContext, type SchemaTypes } from './builder.js';
import { ValidationError } from '../errors.js';
import { MAX_JSON_DEPTH, pathTooDeep } from '../json-depth.js';
import { MUTATION_ERRORS } from './errors.js';

type Scopes = { admin?: boolean; scope?: SchemaTypes['AuthScopes']['scope']; $any?: { admin?: boolean; scope?: SchemaTypes['AuthScopes']['scope'] } };

const pascal = (name: string) => `${name.charAt(0).toUpperCase()}${name.slice(1)}`;

export function defineMutation<Fields extends InputFieldMap, Payload extends object>(
  name: string,
  options: {
    description: string;
    inputDescription?: string;
    input: (t: InputFieldBuilder<SchemaTypes, 'InputObject'>) => Fields;
    payload: ObjectRef<SchemaTypes, Payload>;
    authScopes?: Scopes;
    resolve: (input: InputShapeFromFields<Fields>, context: GraphQLContext) => Promise<Payload>;
  },
): void {
  const inputType = builder.inputType(`${pascal(name)}Input`, {
    description: options.inputDescription ?? `Input of \`${name}\`.`,
    fields: options.input,
  });
  builder.mutationField(name, (t) =>
    t.field({
      type: options.payload,
      description: options.description,
      errors: {
        types: MUTATION_ERRORS,
        union: { description: `The outcome of \`${name}\`: its payload, or an expected error.` },
      },
      ...(options.authScopes ? { authScopes: options.authScopes } : {}),
      args: { input: t.arg({ type: inputType, required: true, description: `What to ${name.replace(/[A-Z].*/, '')}.` }) },
      // Pothos cannot infer the generic input and payload shapes here; defineMutation's signature types them.
      resolve: (_root, args, context) => {
        const { input } = args as unknown as { input: InputShapeFromFields<Fields> };
        // Every JSON field of every input (payload, testPayload, metadata, settings) at once, before
        // any service walks it recursively.
        const tooDeep = pathTooDeep(input);
        if (tooDeep) throw ValidationError.field(['input', ...tooDeep.slice(0, 1)], `nested deeper than ${MAX_JSON_DEPTH} levels`);
        return options.resolve(input, context) as never;
      },
    }),
  );
}
