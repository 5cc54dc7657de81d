/**
 * A management API route declared once: its schemas drive request validation, the response
 * type, and the OpenAPI document (api/openapi.ts). Handlers throw typed errors; the mapping to
 * HTTP status lives in api/error-mapping.ts.
 */
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { Permission } from '../access/permissions.ts';
import type { Principal } from '../access/principal.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteRequest<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The client's address, for the audit log. */
  source: string;
  /** Who is calling (authenticated by the HTTP layer); its `actor` goes into the audit log. */
  principal: Principal;
  /** The unparsed request body, for routes that consume `application/octet-stream` (uploads). */
  stream: Readable | undefined;
  /** The declared Content-Length in bytes, when the client sent one. */
  contentLength: number | undefined;
  /** Sets or clears the session cookie of the response (login and logout only). */
  sessionCookie: SessionCookie;
}

/** The `flotilla_session` cookie: HttpOnly, SameSite=Strict, Path=/, Secure over TLS. */
export interface SessionCookie {
  set(secret: string, maxAgeS: number): void;
  clear(): void;
}

/** A route anyone may call without credentials (health, login, public CA material). */
export const PUBLIC = 'public';

/** A non-JSON response body (PEM, SVG, PNG, or a stream) and its media type. */
export interface RawResponse {
  contentType: string;
  body: string | Buffer | Readable;
  /** Sent as `Content-Disposition: attachment; filename="…"` (a plain file name). */
  filename?: string;
  /** Extra response headers (e.g. `cache-control` of an event stream). */
  headers?: Record<string, string>;
}

export interface ApiRoute<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  /** OpenAPI-style path: `/api/v1/devices/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  /**
   * The one permission this route needs (access/permissions.ts), checked before the handler runs;
   * `public` for the few routes callable without credentials. Handlers acting on devices also
   * narrow to `principal.deviceScope(permission)`.
   */
  permission: Permission | typeof PUBLIC;
  params?: P;
  query?: Q;
  /** JSON request body. */
  body?: B;
  /** Streamed binary body (`application/octet-stream`), handed to the handler unparsed. */
  consumes?: 'application/octet-stream';
  /** JSON response; or, with `produces`, the media types of a raw response. */
  response: R;
  /** Raw (non-JSON) responses: the handler returns a RawResponse of one of these types. */
  produces?: string[];
  /** Success status; 200 unless given. */
  status?: number;
  /** Error codes (see infra/errors.ts) this route can answer with, for the document. */
  errors?: number[];
  handler(request: RouteRequest<z.output<P>, z.output<Q>, z.output<B>>): Promise<z.input<R> | RawResponse>;
}

/** Keeps the generic parameters when routes are collected into one list. */
export function defineRoute<
  P extends z.ZodType,
  Q extends z.ZodType,
  B extends z.ZodType,
  R extends z.ZodType,
>(route: ApiRoute<P, Q, B, R>): ApiRoute {
  return route;
}

const rawResponseKeys = new Set(['contentType', 'body', 'filename', 'headers']);

export function isRawResponse(value: unknown): value is RawResponse {
  return (
    typeof value === 'object' &&
    value !== null &&
    'contentType' in value &&
    'body' in value &&
    Object.keys(value).every((key) => rawResponseKeys.has(key))
  );
}
