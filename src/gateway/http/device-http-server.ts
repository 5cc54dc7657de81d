/**
 * The device HTTPS API, for devices that provision before they speak MQTT (or never do): the same
 * provisioning and renewal as over MQTT, authenticated by the TLS client certificate.
 *
 *   POST /device/v1/provision          claim certificate   ProvisionRequest → ProvisionResponse
 *   POST /device/v1/certificate/renew  device certificate  RenewRequest     → ProvisionResponse
 */
import type { TLSSocket } from 'node:tls';
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import {
  renewRequestSchema,
  type ProvisionRefusalCode,
  type ProvisionResponse,
} from '../../contracts/provisioning-messages.ts';
import type { Clock } from '../../infra/clock.ts';
import type { Timers } from '../../infra/timers.ts';
import { identityFromCertificate, type SessionIdentity } from '../session-identity.ts';
import type { CredentialChecks, ProvisioningHandlers } from '../types.ts';
import type { ArtifactStore } from '../../ota/artifacts/artifact-store.ts';
import { verifyDownload } from '../../ota/delivery/signed-urls.ts';
import { createArtifactDownloadHandler, type DownloadLimits } from '../../ota/delivery/artifact-downloads.ts';
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
  /** Firmware downloads (GET /device/v1/artifacts/{sha256}), when the OTA store is configured. */
  downloads?: { artifacts: ArtifactStore; limits: DownloadLimits; urlKey: Buffer };
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
  ): SessionIdentity | string {
    return certificateSession(request.raw.socket as TLSSocket, clientId);
  }

  /** The session a verified client certificate stands for, or why there is none. */
  function certificateSession(
    socket: TLSSocket,
    clientId: (identity: string) => string,
  ): SessionIdentity | string {
    const cert = socket.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return 'a client certificate is required';
    if (!socket.authorized) return `client certificate not accepted: ${String(socket.authorizationError)}`;
    const cn = typeof cert.subject?.CN === 'string' ? cert.subject.CN : '';
    const result = identityFromCertificate(cert, clientId(cn));
    if (!result.ok) return result.reason;
    return deps.credentials.refusal(result.identity) ?? result.identity;
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
    if (typeof session === 'string') return refuse(reply, 401, 'revoked', session);
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
    if (typeof session === 'string') return refuse(reply, 401, 'revoked', session);
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

  if (deps.downloads) {
    const urlKey = deps.downloads.urlKey;
    const downloads = createArtifactDownloadHandler({
      artifacts: deps.downloads.artifacts,
      limits: deps.downloads.limits,
      clock: deps.clock,
      timers: deps.timers,
      refusal: (request) => {
        // A signed, unexpired URL stands in for the device certificate (CDNs, constrained clients).
        const { expires, sig } = request.query;
        if (expires !== undefined || sig !== undefined) {
          const check = verifyDownload(
            urlKey,
            request.params.sha256,
            expires ?? '',
            sig ?? '',
            deps.clock.now(),
          );
          return check.ok ? undefined : check.reason;
        }
        const session = certificateSession(request.raw.socket as TLSSocket, (cn) => cn);
        if (typeof session === 'string') return session;
        return session.kind === 'device' ? undefined : 'downloads need a device certificate or a signed URL';
      },
    });
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
