/**
 * Publishing firmware: an image is uploaded into the content-addressed artifact store, then a
 * release names it with a semantic version and the hardware it fits. Versions are immutable.
 */
import { z } from 'zod';
import semver from 'semver';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Clock } from '../../infra/clock.ts';
import { PayloadTooLargeError, ValidationError } from '../../infra/errors.ts';
import type { ArtifactStore, StoredArtifact } from '../artifacts/artifact-store.ts';
import type { ProvisioningStore } from '../../store/provisioning-types.ts';
import type { Release, ReleaseStore } from '../../store/release-types.ts';
import type { DeltaBuilder } from '../delta/delta-builder.ts';
import { imageTargetName } from '../metadata/target-names.ts';
import type { UpdateRepository } from '../metadata/update-repository.ts';
import { checkOperatorSignature, imageSignature, type ImageSigningDeps } from './image-signatures.ts';

const semverString = (field: string) =>
  z.string().refine((v) => semver.valid(v) !== null, `${field} must be a semantic version such as 2.4.1`);

export const publishReleaseSchema = z
  .strictObject({
    version: semverString('version'),
    hardwareModel: z.string().min(1).max(64),
    hardwareRevisions: z.array(z.string().min(1).max(32)).max(64).default([]),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 of an uploaded artifact (64 lower-case hex)'),
    security: z.boolean().default(false),
    minVersion: semverString('minVersion').nullable().default(null),
    mandatory: z.boolean().default(false),
    notes: z.string().max(10_000).default(''),
    /** The operator's detached minisign signature of the image (`.minisig` text). */
    signature: z.string().min(1).max(4096).optional(),
    /** Signed downgrade policy: devices may install it even over a higher version. */
    allowDowngrade: z.boolean().default(false),
  })
  .refine((r) => r.minVersion === null || r.security, {
    message: 'minVersion is only meaningful for a security release',
    path: ['minVersion'],
  })
  .refine((r) => r.minVersion === null || semver.lte(r.minVersion, r.version), {
    message: 'minVersion cannot be above the release version',
    path: ['minVersion'],
  });
export type PublishRelease = z.infer<typeof publishReleaseSchema>;

export interface ReleaseServiceDeps {
  artifacts: ArtifactStore;
  releases: ReleaseStore;
  audit: Pick<ProvisioningStore, 'appendAudit'>;
  clock: Clock;
  logger: Logger;
  /** Largest image accepted, in bytes. */
  maxArtifactBytes: number;
  signing: Omit<ImageSigningDeps, 'clock'>;
  repository: UpdateRepository;
  deltas: DeltaBuilder;
}

export interface ReleaseService {
  upload(
    body: Readable,
    context: { actor: string; source: string; expectedSha256?: string; declaredBytes?: number | undefined },
  ): Promise<StoredArtifact>;
  /** Stores the release, its signature and TUF image target, then queues its deltas. */
  publish(release: PublishRelease, context: { actor: string; source: string }): Promise<Release>;
  /** Publishes the image target if the current targets metadata lacks it (idempotent). */
  ensureImageTarget(release: Release, context: { actor: string; source: string }): Promise<void>;
  /**
   * Completes publications a crash interrupted (release stored, but no signature or no target):
   * run at start, before devices are served. Returns the releases it completed.
   */
  reconcile(): Promise<string[]>;
}

export function createReleaseService(deps: ReleaseServiceDeps): ReleaseService {
  const { artifacts, releases, audit, clock, logger } = deps;

  async function publishImageTarget(
    release: Release,
    allowDowngrade: boolean,
    context: { actor: string; source: string },
  ): Promise<void> {
    // With the targets key offline the target is staged until an operator signs it.
    await deps.repository.publish(
      [
        {
          name: imageTargetName(release.hardwareModel, release.version),
          sha256: release.sha256,
          length: release.size,
          custom: {
            kind: 'image',
            version: release.version,
            hardware: { model: release.hardwareModel, revisions: release.hardwareRevisions },
            ...(release.minVersion !== null ? { minVersion: release.minVersion } : {}),
            mandatory: release.mandatory,
            ...(allowDowngrade ? { allowDowngrade } : {}),
          },
        },
      ],
      context,
    );
  }
  return {
    async upload(body, context) {
      if (context.declaredBytes !== undefined && context.declaredBytes > deps.maxArtifactBytes) {
        // Refused before reading; the body is discarded so the client can read the answer.
        body.resume();
        throw new PayloadTooLargeError(
          `the image is ${context.declaredBytes} bytes; the limit is ${deps.maxArtifactBytes}`,
        );
      }
      const stored = await artifacts.put(body, {
        maxBytes: deps.maxArtifactBytes,
        ...(context.expectedSha256 ? { expectedSha256: context.expectedSha256 } : {}),
      });
      logger.info({ ...stored, actor: context.actor }, 'artifact uploaded');
      return stored;
    },
    async publish(input, context) {
      const { signature, allowDowngrade, ...release } = input;
      const size = await artifacts.size(release.sha256);
      if (size === undefined)
        throw new ValidationError(
          `no uploaded artifact has sha256 ${release.sha256}; upload the image first`,
        );
      imageTargetName(release.hardwareModel, release.version);
      // Refuse a bad signature before anything is written.
      const imagePath = artifacts.path(release.sha256);
      if (signature !== undefined)
        await checkOperatorSignature(imagePath, signature, deps.signing.trustedKeys);
      const atMs = clock.now();
      const created = await releases.createRelease({ ...release, size, createdBy: context.actor }, atMs);
      await audit.appendAudit({
        atMs,
        actor: context.actor,
        action: 'release.published',
        target: created.id,
        source: context.source,
        details: {
          sha256: release.sha256,
          size,
          security: release.security,
          minVersion: release.minVersion,
          mandatory: release.mandatory,
        },
      });
      const signed = await imageSignature(imagePath, signature, { ...deps.signing, clock });
      await artifacts.writeSignature(release.sha256, signed.minisig);
      logger.info({ release: created.id, signedBy: signed.signedBy }, 'image signature stored');
      await publishImageTarget(created, allowDowngrade, context);
      // Deltas are built in the background; the builder logs and records its own failures.
      await deps.deltas.schedule(created);
      return created;
    },
    async reconcile() {
      const completed: string[] = [];
      const context = { actor: 'server', source: 'start' };
      for (const release of await releases.listReleases({})) {
        const missingSignature = (await artifacts.readSignature(release.sha256)) === undefined;
        if (missingSignature) {
          const signed = await imageSignature(artifacts.path(release.sha256), undefined, {
            ...deps.signing,
            clock,
          });
          await artifacts.writeSignature(release.sha256, signed.minisig);
        }
        const name = imageTargetName(release.hardwareModel, release.version);
        const missingTarget = !(await deps.repository.hasTarget(name, release.sha256));
        if (missingTarget) await publishImageTarget(release, false, context);
        if (missingSignature || missingTarget) completed.push(release.id);
      }
      if (completed.length > 0)
        logger.warn({ releases: completed }, 'completed interrupted release publications');
      return completed;
    },
    async ensureImageTarget(release, context) {
      if (
        await deps.repository.hasTarget(
          imageTargetName(release.hardwareModel, release.version),
          release.sha256,
        )
      )
        return;
      await publishImageTarget(release, false, context);
    },
  };
}
