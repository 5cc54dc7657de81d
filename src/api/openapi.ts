/** Builds the OpenAPI 3.1 document from the declared routes: the routes are the source of truth. */
import { z } from 'zod';
import type { ApiRoute } from './route.ts';
import { errorBodySchema } from './error-mapping.ts';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const document = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete document['$schema'];
  return document;
}

function parameters(schema: z.ZodType | undefined, location: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(object.properties ?? {}).map(([name, s]) => ({
    name,
    in: location,
    required: location === 'path' || (object.required ?? []).includes(name),
    ...(typeof s['description'] === 'string' ? { description: s['description'] } : {}),
    schema: s,
  }));
}

const errorDescriptions: Record<number, string> = {
  400: 'Invalid request',
  401: 'Not authenticated',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  503: 'A dependency is unavailable',
};

export function buildOpenApiDocument(
  routes: ApiRoute[],
  info: { title: string; version: string },
): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const errorRef = { $ref: '#/components/schemas/Error' };
  for (const route of routes) {
    const content = route.produces
      ? Object.fromEntries(
          route.produces.map((type) => [type, { schema: { type: 'string', format: 'binary' } }]),
        )
      : { 'application/json': { schema: jsonSchema(route.response, 'output') } };
    const responses: Record<string, JsonSchema> = {
      [String(route.status ?? 200)]: { description: 'OK', content },
    };
    for (const status of route.errors ?? []) {
      responses[String(status)] = {
        description: errorDescriptions[status] ?? 'Error',
        content: { 'application/json': { schema: errorRef } },
      };
    }
    responses['500'] = {
      description: 'Internal error',
      content: { 'application/json': { schema: errorRef } },
    };
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      // The permission the route needs (docs/access-control.md); `public` needs no credentials.
      'x-permission': route.permission,
      ...(route.permission === 'public' ? { security: [] } : {}),
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      ...(route.consumes
        ? {
            requestBody: {
              required: true,
              content: { [route.consumes]: { schema: { type: 'string', format: 'binary' } } },
            },
          }
        : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    security: [{ bearerToken: [] }, { sessionCookie: [] }],
    components: {
      schemas: { Error: jsonSchema(errorBodySchema, 'output') },
      securitySchemes: {
        bearerToken: { type: 'http', scheme: 'bearer', description: 'An API token: flt_…' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'flotilla_session' },
      },
    },
  };
}
