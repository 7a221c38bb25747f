import { DateTimeResolver, JSONObjectResolver, JSONResolver } from 'graphql-scalars';
import { builder } from './builder.js';

builder.addScalarType('DateTime', DateTimeResolver, {
  description: 'An instant, as an RFC 3339 string in UTC (e.g. `2026-11-22T12:00:00.000Z`).',
});
builder.addScalarType('JSON', JSONResolver, { description: 'Any JSON value.' });
builder.addScalarType('JSONObject', JSONObjectResolver, { description: 'A JSON object.' });
