/** Firmware routes of the management API: artifact upload, releases. */
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../infra/errors.ts';
import { publishReleaseSchema, type ReleaseService } from '../../ota/releases/release-service.ts';
import type { Release, ReleaseStore } from '../../store/release-types.ts';
import type { DeltaBuilder } from '../../ota/delta/delta-builder.ts';
import type { ArtifactStore } from '../../ota/artifacts/artifact-store.ts';
import { signDownload } from '../../ota/delivery/signed-urls.ts';
import type { Clock } from '../../infra/clock.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

export const releaseDeltaSchema = z.object({
  baseVersion: z.string(),
  baseSha256: z.string(),
  status: z.enum(['ready', 'skipped', 'failed']),
  patchSha256: z.string().nullable(),
  patchSize: z.number().int().nullable(),
  reason: z.string().nullable(),
  createdAt: z.string(),
});

export const releaseSchema = z.object({
  id: z.string(),
  version: z.string(),
  hardwareModel: z.string(),
  hardwareRevisions: z.array(z.string()),
  sha256: z.string(),
  size: z.number().int(),
  security: z.boolean(),
  minVersion: z.string().nullable(),
  mandatory: z.boolean(),
  notes: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  /** Whether a minisign signature of the image is stored (served at /device/v1/artifacts/{sha256}/minisig). */
  minisig: z.boolean(),
  deltas: z.array(releaseDeltaSchema),
});

export const storedArtifactSchema = z.object({ sha256: z.string(), size: z.number().int() });

export interface FirmwareRouteDeps {
  service: ReleaseService;
  releases: ReleaseStore;
  deltas: Pick<DeltaBuilder, 'schedule'>;
  artifacts: ArtifactStore;
  clock: Clock;
  /** Signs download URLs for the device HTTPS API at `baseUrl()`. */
  signing: { urlKey: Buffer; baseUrl: () => string };
}

const releaseParams = z.strictObject({ model: z.string().min(1), version: z.string().min(1) });

export function firmwareRoutes(deps: FirmwareRouteDeps): ApiRoute[] {
  const { service, releases } = deps;

  /** A release with its signature presence and deltas, as the API shows it. */
  async function describe(release: Release): Promise<z.infer<typeof releaseSchema>> {
    const [minisig, deltas] = await Promise.all([
      deps.artifacts.readSignature(release.sha256),
      releases.listDeltas(release.hardwareModel, release.version),
    ]);
    return {
      ...release,
      minisig: minisig !== undefined,
      deltas: deltas.map(({ hardwareModel: _model, version: _version, ...delta }) => delta),
    };
  }

  async function requireRelease(params: { model: string; version: string }): Promise<Release> {
    const release = await releases.getRelease(params.model, params.version);
    if (!release) throw new NotFoundError(`release ${params.model}@${params.version} not found`, params);
    return release;
  }

  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/firmware/artifacts/{sha256}/download-url',
      operationId: 'signDownloadUrl',
      summary: 'A signed, expiring download URL for an image (no client certificate needed until it expires)',
      tag: 'firmware',
      permission: 'firmware:read',
      params: z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
      body: z.strictObject({
        ttlS: z
          .number()
          .int()
          .min(60)
          .max(7 * 24 * 3600)
          .default(3600),
      }),
      response: z.object({ url: z.string(), expiresAt: z.string() }),
      errors: [400, 404],
      handler: async ({ params, body }) => {
        if ((await deps.artifacts.size(params.sha256)) === undefined) {
          throw new NotFoundError(`no artifact ${params.sha256}`, params);
        }
        const expiresS = Math.floor(deps.clock.now() / 1000) + body.ttlS;
        const sig = signDownload(deps.signing.urlKey, params.sha256, expiresS);
        return {
          url: `${deps.signing.baseUrl()}/device/v1/artifacts/${params.sha256}?expires=${expiresS}&sig=${sig}`,
          expiresAt: new Date(expiresS * 1000).toISOString(),
        };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/api/v1/firmware/artifacts',
      operationId: 'uploadArtifact',
      summary: 'Upload an image (streamed, stored content-addressed by sha256)',
      tag: 'firmware',
      permission: 'firmware:write',
      consumes: 'application/octet-stream',
      query: z.strictObject({
        sha256: z
          .string()
          .regex(/^[0-9a-f]{64}$/)
          .optional()
          .describe('Refuse the upload unless it hashes to this'),
      }),
      response: storedArtifactSchema,
      status: 201,
      errors: [400, 413],
      handler: async ({ stream, query, source, contentLength, principal }) => {
        if (!stream)
          throw new ValidationError(
            'send the image as the request body with content-type application/octet-stream',
          );
        return service.upload(stream, {
          actor: principal.actor,
          source,
          declaredBytes: contentLength,
          ...(query.sha256 ? { expectedSha256: query.sha256 } : {}),
        });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/firmware/releases',
      operationId: 'publishRelease',
      summary: 'Publish a release: an uploaded image with its version and compatible hardware',
      tag: 'firmware',
      permission: 'firmware:write',
      body: publishReleaseSchema,
      response: releaseSchema,
      status: 201,
      errors: [400, 409, 422],
      handler: async ({ body, source, principal }) =>
        describe(await service.publish(body, { actor: principal.actor, source })),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/firmware/releases',
      operationId: 'listReleases',
      summary: 'Releases, newest version first',
      tag: 'firmware',
      permission: 'firmware:read',
      query: z.strictObject({ model: z.string().min(1).optional(), revision: z.string().min(1).optional() }),
      response: z.object({ items: z.array(releaseSchema) }),
      errors: [400],
      handler: async ({ query }) => {
        const items = await releases.listReleases({
          hardwareModel: query.model,
          hardwareRevision: query.revision,
        });
        return { items: await Promise.all(items.map(describe)) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/firmware/releases/{model}/{version}',
      operationId: 'getRelease',
      summary: 'One release',
      tag: 'firmware',
      permission: 'firmware:read',
      params: releaseParams,
      response: releaseSchema,
      errors: [404],
      handler: async ({ params }) => describe(await requireRelease(params)),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/firmware/releases/{model}/{version}/deltas',
      operationId: 'listReleaseDeltas',
      summary: "A release's delta patches (ready, skipped as too large, or failed), newest base first",
      tag: 'firmware',
      permission: 'firmware:read',
      params: releaseParams,
      response: z.object({ items: z.array(releaseDeltaSchema) }),
      errors: [404],
      handler: async ({ params }) => ({ items: (await describe(await requireRelease(params))).deltas }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/firmware/releases/{model}/{version}/deltas',
      operationId: 'buildReleaseDeltas',
      summary:
        '(Re)build delta patches in the background: from every installed older release, or from baseVersions',
      tag: 'firmware',
      permission: 'firmware:write',
      params: releaseParams,
      body: z.strictObject({ baseVersions: z.array(z.string().min(1)).max(100).optional() }).default({}),
      response: z.object({ queued: z.array(z.string()) }),
      status: 202,
      errors: [400, 404],
      handler: async ({ params, body, source, principal }) => {
        const release = await requireRelease(params);
        // A publication interrupted before its metadata (crash, key offline then) is completed here.
        await service.ensureImageTarget(release, { actor: principal.actor, source });
        return { queued: await deps.deltas.schedule(release, body.baseVersions) };
      },
    }),
  ];
}
