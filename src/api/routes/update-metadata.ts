/**
 * Two-step publishing with the TUF targets key offline (TUF 6.1): the server stages targets,
 * an operator fetches the metadata to sign and posts detached signatures back
 * (`flotilla firmware sign-metadata`).
 */
import { z } from 'zod';
import { NotFoundError } from '../../infra/errors.ts';
import type { UpdateRepository } from '../../ota/metadata/update-repository.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

export const pendingTargetsSchema = z.object({
  /** Version of the targets metadata to sign. */
  version: z.number().int().positive(),
  /** The targets metadata `signed` object: earlier targets plus the staged ones. */
  signed: z.record(z.string(), z.unknown()),
  /** Base64 of the canonical JSON of `signed` (TUF 4.2): the bytes to sign. */
  canonical: z.string(),
  /** Names of the staged targets. */
  targets: z.array(z.string()),
});

export const signedTargetsBodySchema = z.strictObject({
  version: z.number().int().positive(),
  signed: z.record(z.string(), z.unknown()),
  signatures: z
    .array(
      z.strictObject({
        keyid: z.string().regex(/^[0-9a-f]{64}$/),
        sig: z.string().regex(/^[0-9a-f]+$/),
      }),
    )
    .min(1)
    .max(16),
});

export const publishedVersionsSchema = z.object({
  targets: z.number().int(),
  snapshot: z.number().int(),
  timestamp: z.number().int(),
});

export interface UpdateMetadataRouteDeps {
  repository: Pick<UpdateRepository, 'pendingTargets' | 'publishSignedTargets'>;
}

export function updateMetadataRoutes(deps: UpdateMetadataRouteDeps): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/firmware/metadata/pending',
      operationId: 'getPendingTargetsMetadata',
      summary: 'Targets metadata staged while the TUF targets key is offline, to be signed offline',
      tag: 'firmware',
      permission: 'firmware:read',
      response: pendingTargetsSchema,
      errors: [404],
      handler: async () => {
        const pending = await deps.repository.pendingTargets();
        if (!pending) throw new NotFoundError('no staged targets to sign');
        return {
          version: pending.version,
          signed: pending.signed,
          canonical: pending.canonical.toString('base64'),
          targets: pending.names,
        };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/firmware/metadata/pending/signatures',
      operationId: 'publishSignedTargetsMetadata',
      summary:
        'Publish the staged targets metadata with offline targets-key signatures (then snapshot and timestamp)',
      tag: 'firmware',
      permission: 'firmware:write',
      body: signedTargetsBodySchema,
      response: publishedVersionsSchema,
      status: 201,
      errors: [400, 403, 404, 409],
      handler: async ({ body, source, principal }) =>
        deps.repository.publishSignedTargets(body, { actor: principal.actor, source }),
    }),
  ];
}
