/**
 * The device HTTPS API, for devices that provision before they speak MQTT (or never do): the same
 * provisioning and renewal as over MQTT, authenticated by the TLS client certificate.
 *
 *   POST /device/v1/provision          claim certificate   ProvisionRequest → ProvisionResponse
 *   POST /device/v1/certificate/renew  device certificate  RenewRequest     → ProvisionResponse
 *   GET  /device/v1/update             device certificate  → UpdateNotify (strong ETag, 304)
 *   POST /device/v1/update/status      device certificate  UpdateStatus → 202 | 409 UpdateStatusResponse
 *   POST /device/v1/telemetry          device certificate  TelemetryUpload → TelemetryUploadResponse
 *                                      (Content-Encoding: gzip accepted; 413 past uploadBytes decompressed)
 *   PUT  /device/v1/jobs/{executionId}/logs  device certificate  gzip log bundle → 201 { bytes }
 *                                      (only the device's own `logs` execution; 413 past MAX_LOG_BUNDLE_BYTES)
 *
 * and, when the OTA store is configured, firmware and signed update metadata (device certificate
 * or signed URL): `/device/v1/artifacts/{sha256}[/minisig]`, `/device/v1/tuf/{metadata file}`,
 * `/device/v1/tuf/targets/{sha256}.{name}`.
 */
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import {
  renewRequestSchema,
  type ProvisionRefusalCode,
  type ProvisionResponse,
} from '../../contracts/provisioning-messages.ts';
import type { Clock } from '../../infra/clock.ts';
import type { Timers } from '../../infra/timers.ts';
import { identityFromCertificate, type SessionIdentity } from '../session-identity.ts';
import type {
  CredentialChecks,
  ProvisioningHandlers,
  TelemetryHandler,
  UpdateStatusHandler,
} from '../types.ts';
import {
  TELEMETRY_LIMITS,
  telemetryUploadSchema,
  type TelemetryUploadResponse,
} from '../../contracts/telemetry-messages.ts';
import { decodedBody } from './content-encoding.ts';
import {
  refusedStatusOutcomes,
  updateStatusSchema,
  type UpdateNotify,
} from '../../contracts/update-messages.ts';
import type { DeviceIdentity } from '../session-identity.ts';
import type { ArtifactStore } from '../../ota/artifacts/artifact-store.ts';
import { verifyDownload } from '../../ota/delivery/signed-urls.ts';
import {
  createArtifactDownloadHandler,
  type DownloadLimits,
  type DownloadRequest,
} from '../../ota/delivery/artifact-downloads.ts';
import type { UpdateRepository } from '../../ota/metadata/update-repository.ts';
import { tufRouteHandlers } from './device-tuf-routes.ts';
import { jobLogRoutes, type JobLogUploads } from './device-job-routes.ts';
import { deviceTlsOptions, type DeviceTlsMaterial } from '../tls-options.ts';

export interface DeviceHttpOptions {
  host: string;
  port: number;
  tls: DeviceTlsMaterial;
}

export interface DeviceHttpDeps {
  clock: Clock;
  /** Paces bandwidth-limited downloads. */
  timers: Timers;
  logger: Logger;
  provisioning: ProvisioningHandlers;
  credentials: CredentialChecks;
  /** Firmware update offers (pull) and statuses; the same service as over MQTT. */
  updates: UpdateStatusHandler & { offer(device: DeviceIdentity): Promise<UpdateNotify> };
  /** Batch telemetry upload; the same ingest as the MQTT telemetry topic. */
  telemetry: TelemetryHandler;
  /** Log bundles of `logs` jobs (PUT /device/v1/jobs/{executionId}/logs), when jobs run. */
  jobs?: JobLogUploads;
  /** Firmware downloads (GET /device/v1/artifacts/{sha256}), when the OTA store is configured. */
  downloads?: {
    artifacts: ArtifactStore;
    limits: DownloadLimits;
    urlKey: Buffer;
    /** The TUF repository served at `/device/v1/tuf/`. */
    repository?: UpdateRepository;
  };
}

const statusForRefusal: Record<ProvisionRefusalCode, number> = {
  malformed_request: 400,
  invalid_csr: 400,
  unsupported_key: 400,
  csr_subject_mismatch: 400,
  unknown_serial: 404,
  already_provisioned: 409,
  wrong_batch: 403,
  claim_expired: 403,
  claim_exhausted: 403,
  revoked: 403,
  unauthenticated: 401,
  internal_error: 503,
};

function statusOf(response: ProvisionResponse): number {
  return response.status === 'accepted' ? 200 : statusForRefusal[response.code];
}

function refuse(
  reply: FastifyReply,
  status: number,
  code: ProvisionRefusalCode,
  message: string,
): FastifyReply {
  return reply.status(status).send({ status: 'rejected', code, message } satisfies ProvisionResponse);
}

/**
 * The request's JSON body validated by `schema`; or the reply, answered 400 `malformed_request`
 * with the reason (not JSON, or each schema issue with its path).
 */
function jsonBody<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  schema: z.ZodType<T>,
): { ok: true; data: T } | { ok: false; reply: FastifyReply } {
  let json: unknown;
  try {
    json = JSON.parse((request.body as Buffer).toString('utf8'));
  } catch {
    return { ok: false, reply: refuse(reply, 400, 'malformed_request', 'request is not JSON') };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, data: parsed.data };
  const reason = parsed.error.issues
    .map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`)
    .join('; ');
  return { ok: false, reply: refuse(reply, 400, 'malformed_request', reason) };
}

/** Why a request's certificate does not stand for a session. */
interface SessionRefusal {
  code: 'unauthenticated' | 'revoked';
  message: string;
}

export type DeviceHttpServer = ReturnType<typeof createDeviceHttpServer>;

export function createDeviceHttpServer(deps: DeviceHttpDeps, options: DeviceHttpOptions) {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'device-http' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 16 * 1024,
    // Client certificates are verified per request below (sessionOf).
    https: deviceTlsOptions(options.tls),
  });
  // Keep the raw body: the provisioning handler validates it and answers malformed_request itself.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );

  function sessionOf(
    request: FastifyRequest,
    clientId: (identity: string) => string,
  ): SessionIdentity | SessionRefusal {
    return certificateSession(request.raw.socket as TLSSocket, clientId);
  }

  /**
   * The session a verified client certificate stands for, or why there is none: `unauthenticated`
   * (no, unverified or unusable certificate) or `revoked` (a known credential the fleet revoked).
   */
  function certificateSession(
    socket: TLSSocket,
    clientId: (identity: string) => string,
  ): SessionIdentity | SessionRefusal {
    const unauthenticated = (message: string): SessionRefusal => ({ code: 'unauthenticated', message });
    const cert = socket.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return unauthenticated('a client certificate is required');
    if (!socket.authorized)
      return unauthenticated(`client certificate not accepted: ${String(socket.authorizationError)}`);
    const cn = typeof cert.subject?.CN === 'string' ? cert.subject.CN : '';
    const result = identityFromCertificate(cert, clientId(cn));
    if (!result.ok) return unauthenticated(result.reason);
    const revoked = deps.credentials.refusal(result.identity);
    return revoked === undefined ? result.identity : { code: 'revoked', message: revoked };
  }

  app.post('/device/v1/provision', async (request, reply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    let serial = '';
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { serial?: unknown };
      if (typeof parsed.serial === 'string') serial = parsed.serial;
    } catch {
      return refuse(reply, 400, 'malformed_request', 'request is not JSON');
    }
    // Over HTTPS there is no client id: the serial in the request plays its part.
    const session = sessionOf(request, () => serial);
    if ('code' in session) return refuse(reply, 401, session.code, session.message);
    if (session.kind !== 'claim')
      return refuse(reply, 403, 'wrong_batch', 'provisioning needs a claim certificate');
    const response = await deps.provisioning.provision(session.claim, body, {
      atMs: deps.clock.now(),
      source: request.ip,
    });
    return reply.status(statusOf(response)).send(response);
  });

  app.post('/device/v1/certificate/renew', async (request, reply) => {
    const session = sessionOf(request, (cn) => cn);
    if ('code' in session) return refuse(reply, 401, session.code, session.message);
    if (session.kind !== 'device')
      return refuse(reply, 403, 'wrong_batch', 'renewal needs a device certificate');
    let json: unknown;
    try {
      json = JSON.parse((request.body as Buffer).toString('utf8'));
    } catch {
      return refuse(reply, 400, 'malformed_request', 'request is not JSON');
    }
    const parsed = renewRequestSchema.safeParse(json);
    if (!parsed.success)
      return refuse(reply, 400, 'malformed_request', parsed.error.issues.map((i) => i.message).join('; '));
    const response = await deps.provisioning.renew(session.device, parsed.data, {
      atMs: deps.clock.now(),
      source: request.ip,
    });
    return reply.status(statusOf(response)).send(response);
  });

  /** The device a request's certificate stands for, or the refusal already sent. */
  function deviceOf(request: FastifyRequest, reply: FastifyReply): DeviceIdentity | FastifyReply {
    const session = sessionOf(request, (cn) => cn);
    if ('code' in session) return refuse(reply, 401, session.code, session.message);
    if (session.kind !== 'device')
      return refuse(reply, 403, 'wrong_batch', 'this needs a device certificate');
    return session.device;
  }

  app.get('/device/v1/update', async (request, reply) => {
    const device = deviceOf(request, reply);
    if (!('deviceId' in device)) return device;
    const body = JSON.stringify(await deps.updates.offer(device));
    // Strong validator of the exact bytes (RFC 9110 8.8.3): polling devices get 304 until the offer changes.
    const etag = `"${createHash('sha256').update(body).digest('base64url')}"`;
    void reply.header('etag', etag).header('cache-control', 'no-cache');
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim() === etag))
      return reply.status(304).send();
    return reply.type('application/json').send(body);
  });

  app.post('/device/v1/update/status', async (request, reply) => {
    const device = deviceOf(request, reply);
    if (!('deviceId' in device)) return device;
    const status = jsonBody(request, reply, updateStatusSchema);
    if (!status.ok) return status.reply;
    const response = await deps.updates.status(device, status.data);
    return reply.status(refusedStatusOutcomes.includes(response.outcome) ? 409 : 202).send(response);
  });

  app.post(
    '/device/v1/telemetry',
    {
      bodyLimit: TELEMETRY_LIMITS.uploadBytes,
      // Refuse before reading (or inflating) the body of a client that may not upload.
      onRequest: async (request, reply) => {
        const device = deviceOf(request, reply);
        if (!('deviceId' in device)) return device;
        return undefined;
      },
      preParsing: async (request, _reply, payload) =>
        decodedBody(request.headers['content-encoding'], payload),
    },
    async (request, reply) => {
      const device = deviceOf(request, reply);
      if (!('deviceId' in device)) return device;
      const upload = jsonBody(request, reply, telemetryUploadSchema);
      if (!upload.ok) return upload.reply;
      const result = await deps.telemetry.ingestUpload(device, upload.data.batches);
      if (!result.ok) return refuse(reply, 400, 'malformed_request', result.message);
      return reply.send({ acks: result.acks } satisfies TelemetryUploadResponse);
    },
  );

  if (deps.jobs) void app.register(jobLogRoutes({ uploads: deps.jobs, deviceOf }));

  if (deps.downloads) {
    const urlKey = deps.downloads.urlKey;
    /** Undefined when the request may read `subject`, else why not (answered with 401). */
    const refusal = (request: Omit<DownloadRequest, 'params'>, subject: string): string | undefined => {
      // A signed, unexpired URL stands in for the device certificate (CDNs, constrained clients).
      const { expires, sig } = request.query;
      if (expires !== undefined || sig !== undefined) {
        const check = verifyDownload(urlKey, subject, expires ?? '', sig ?? '', deps.clock.now());
        return check.ok ? undefined : check.reason;
      }
      const session = certificateSession(request.raw.socket as TLSSocket, (cn) => cn);
      if ('code' in session) return session.message;
      return session.kind === 'device' ? undefined : 'downloads need a device certificate or a signed URL';
    };
    const downloads = createArtifactDownloadHandler({
      artifacts: deps.downloads.artifacts,
      limits: deps.downloads.limits,
      clock: deps.clock,
      timers: deps.timers,
      refusal: (request) => refusal(request, request.params.sha256),
    });
    const artifacts = deps.downloads.artifacts;
    app.get<{ Params: { sha256: string }; Querystring: { expires?: string; sig?: string } }>(
      '/device/v1/artifacts/:sha256/minisig',
      async (request, reply) => {
        const why = refusal(request, request.params.sha256);
        if (why !== undefined)
          return reply.status(401).send({ error: { code: 'unauthorized', message: why } });
        const minisig = /^[0-9a-f]{64}$/.test(request.params.sha256)
          ? await artifacts.readSignature(request.params.sha256)
          : undefined;
        if (minisig === undefined)
          return reply
            .status(404)
            .send({ error: { code: 'not_found', message: 'no signature for this artifact' } });
        return reply.header('cache-control', 'no-cache').type('text/plain; charset=utf-8').send(minisig);
      },
    );
    if (deps.downloads.repository) {
      const tuf = tufRouteHandlers({ repository: deps.downloads.repository, downloads, refusal });
      type TufRoute = { Params: { file: string }; Querystring: { expires?: string; sig?: string } };
      app.get<TufRoute>('/device/v1/tuf/targets/:file', (request, reply) => tuf.target(request, reply));
      app.get<TufRoute>('/device/v1/tuf/:file', (request, reply) => tuf.metadata(request, reply));
    }
    app.get<{ Params: { sha256: string }; Querystring: { expires?: string; sig?: string } }>(
      '/device/v1/artifacts/:sha256',
      (request, reply) => downloads.serve(request, reply),
    );
  }

  app.setNotFoundHandler((_request, reply) =>
    reply
      .status(404)
      .send({ status: 'rejected', code: 'malformed_request', message: 'no such device endpoint' }),
  );
  app.setErrorHandler((error, _request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    return refuse(
      reply,
      status >= 400 && status < 500 ? status : 503,
      status < 500 ? 'malformed_request' : 'internal_error',
      status < 500 ? (error as Error).message : 'internal error',
    );
  });

  return {
    async start(): Promise<number> {
      await app.listen({ host: options.host, port: options.port });
      const address = app.server.address();
      return typeof address === 'object' && address ? address.port : options.port;
    },
    stop: () => app.close(),
  };
}
