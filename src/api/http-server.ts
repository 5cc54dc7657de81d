/**
 * The management HTTP server: declared API routes (validated by their schemas), /metrics,
 * /openapi.json and the web page. Errors are mapped in one place (error-mapping.ts).
 */
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Histogram, type Registry } from 'prom-client';
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import { PUBLIC, isRawResponse, type ApiRoute, type SessionCookie } from './route.ts';
import { toErrorResponse, validationErrorFrom } from './error-mapping.ts';
import { buildOpenApiDocument } from './openapi.ts';
import type { WebAsset, WebAssets } from '../web/web-assets.ts';
import { anonymousPrincipal, unrestrictedPrincipal, type Principal } from '../access/principal.ts';
import { SESSION_COOKIE, type Authenticator } from '../access/authenticator.ts';
import type { Permission } from '../access/permissions.ts';
import { FlotillaError, ForbiddenError, NotFoundError, ValidationError } from '../infra/errors.ts';

/** Access control of the management API; absent when `auth.enabled` is false (everything allowed). */
export interface HttpAuth {
  authenticator: Authenticator;
  /** Serve /metrics without credentials (Prometheus); otherwise it needs system:read. */
  metricsPublic: boolean;
}

export interface HttpServerDeps {
  logger: Logger;
  metricsRegistry: Registry;
  routes: ApiRoute[];
  /** The HTML of the web page served at `/`. */
  /** The dashboard (src/web); absent in tests that only need the API. */
  web?: WebAssets;
  version: string;
  auth?: HttpAuth;
}

/** `/api/v1/devices/{id}` → `/api/v1/devices/:id` */
function fastifyPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

function parseWith<T extends z.ZodType>(
  schema: T | undefined,
  where: string,
  value: unknown,
): z.output<T> | undefined {
  if (!schema) return undefined;
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw validationErrorFrom(where, result.error);
  return result.data;
}

export type HttpServer = ReturnType<typeof createHttpServer>;

/**
 * Who is calling, checked against `permission` before anything else of the request is read:
 * 401 without valid credentials, 403 naming the permission when it is not granted.
 */
async function principalFor(
  auth: HttpAuth | undefined,
  request: FastifyRequest,
  permission: Permission | typeof PUBLIC,
): Promise<Principal> {
  if (auth === undefined) return unrestrictedPrincipal('api');
  if (permission === PUBLIC) return anonymousPrincipal();
  const principal = await auth.authenticator.authenticate({
    authorization: request.headers.authorization,
    cookie: request.headers.cookie,
  });
  if (!principal.can(permission))
    throw new ForbiddenError(`${principal.actor} lacks the permission ${permission}`, {
      missing: permission,
    });
  return principal;
}

function sessionCookie(request: FastifyRequest, reply: FastifyReply): SessionCookie {
  const attributes = [
    'HttpOnly',
    'SameSite=Strict',
    'Path=/',
    ...(request.protocol === 'https' ? ['Secure'] : []),
  ];
  return {
    set: (secret, maxAgeS) =>
      void reply.header(
        'set-cookie',
        [`${SESSION_COOKIE}=${secret}`, `Max-Age=${maxAgeS}`, ...attributes].join('; '),
      ),
    clear: () =>
      void reply.header('set-cookie', [`${SESSION_COOKIE}=`, 'Max-Age=0', ...attributes].join('; ')),
  };
}

export function createHttpServer(deps: HttpServerDeps) {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
  });
  const duration = new Histogram({
    name: 'flotilla_http_request_duration_seconds',
    help: 'Management API request duration by route and status',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [deps.metricsRegistry],
  });

  app.addHook('onResponse', async (request, reply) => {
    duration.observe(
      {
        route: request.routeOptions.url ?? 'unmatched',
        method: request.method,
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler(async (error, request, reply) => {
    // Fastify's own errors (malformed JSON, wrong content type) carry a 4xx statusCode.
    const fastifyStatus =
      error instanceof FlotillaError ? undefined : (error as { statusCode?: unknown }).statusCode;
    const mapped =
      typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500
        ? toErrorResponse(new ValidationError(error instanceof Error ? error.message : 'bad request'))
        : toErrorResponse(error);
    if (mapped.status >= 500) request.log.error({ err: error, url: request.url }, 'request failed');
    return reply.status(mapped.status).send(mapped.body);
  });
  app.setNotFoundHandler(async (request, reply) => {
    const mapped = toErrorResponse(
      new NotFoundError(`no route ${request.method} ${request.url.split('?')[0] ?? ''}`),
    );
    return reply.status(mapped.status).send(mapped.body);
  });

  // Uploads stream through unparsed; the handler enforces its own size limit.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

  const principals = new WeakMap<FastifyRequest, Principal>();
  for (const route of deps.routes) {
    app.route({
      method: route.method,
      url: fastifyPath(route.path),
      // Before the body is read: an unauthenticated upload is refused without receiving it.
      onRequest: async (request) => {
        principals.set(request, await principalFor(deps.auth, request, route.permission));
      },
      handler: async (request, reply) => {
        const params = parseWith(route.params, 'path', request.params);
        const query = parseWith(route.query, 'query', request.query);
        const body = parseWith(route.body, 'body', request.body);
        const binary =
          route.consumes !== undefined && (request.headers['content-type'] ?? '').startsWith(route.consumes);
        const stream = binary ? (request.body as Readable) : undefined;
        const declared = Number(request.headers['content-length']);
        const contentLength = Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined;
        const result = await route.handler({
          params,
          query,
          body,
          source: request.ip,
          principal: principals.get(request) ?? anonymousPrincipal(),
          stream,
          contentLength,
          sessionCookie: sessionCookie(request, reply),
        });
        reply.status(route.status ?? 200);
        if (route.produces && isRawResponse(result)) {
          if (result.filename !== undefined) {
            reply.header('content-disposition', `attachment; filename="${result.filename}"`);
          }
          for (const [name, value] of Object.entries(result.headers ?? {})) reply.header(name, value);
          return reply.type(result.contentType).send(result.body);
        }
        return result;
      },
    });
  }

  const openApi = buildOpenApiDocument(deps.routes, {
    title: 'Flotilla management API',
    version: deps.version,
  });
  app.get('/openapi.json', () => Promise.resolve(openApi));
  app.get('/metrics', async (request, reply) => {
    if (deps.auth?.metricsPublic === false) await principalFor(deps.auth, request, 'system:read');
    const text = await deps.metricsRegistry.metrics();
    return reply.type(deps.metricsRegistry.contentType).send(text);
  });
  const web = deps.web;
  if (web !== undefined) {
    const serve = async (request: FastifyRequest, reply: FastifyReply, asset: WebAsset, maxAgeS: number) => {
      reply
        .header('etag', asset.etag)
        .header('cache-control', `private, max-age=${maxAgeS}, must-revalidate`);
      reply.header('vary', 'accept-encoding').type(asset.contentType);
      if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
      if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? ''))
        return reply.header('content-encoding', 'gzip').send(asset.gzipped);
      return reply.send(asset.body);
    };
    app.get('/', async (request, reply) => serve(request, reply, await web.index(), 0));
    for (const name of ['app.js', 'app.css'])
      app.get(`/${name}`, async (request, reply) => {
        const asset = await web.asset(name);
        return asset === undefined ? reply.status(404).send() : serve(request, reply, asset, 0);
      });
  }
  return app;
}
