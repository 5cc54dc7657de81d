/**
 * A management API route declared once: its schemas drive request validation, the response
 * type, and the OpenAPI document (api/openapi.ts). Handlers throw typed errors; the mapping to
 * HTTP status lives in api/error-mapping.ts.
 */
import type { z } from 'zod';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteRequest<P, Q> {
  params: P;
  query: Q;
}

export interface ApiRoute<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  /** OpenAPI-style path: `/api/v1/devices/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  response: R;
  /** Error codes (see infra/errors.ts) this route can answer with, for the document. */
  errors?: number[];
  handler(request: RouteRequest<z.output<P>, z.output<Q>>): Promise<z.input<R>>;
}

/** Keeps the generic parameters when routes are collected into one list. */
export function defineRoute<P extends z.ZodType, Q extends z.ZodType, R extends z.ZodType>(
  route: ApiRoute<P, Q, R>,
): ApiRoute {
  return route;
}
