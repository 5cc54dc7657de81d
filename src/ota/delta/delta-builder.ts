/**
 * Builds delta patches for a release in the background: one patch at a time (bsdiff needs about
 * 9× the old image in memory), each from an installed older release's image to the new one.
 * A ready patch goes into the artifact store, is recorded in `release_deltas` and published as a
 * TUF target; a patch too large to be worth it is recorded as skipped; a failure is logged,
 * recorded and audited, and never takes the server down.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../infra/clock.ts';
import { KeyedSerialQueue } from '../../infra/keyed-queue.ts';
import type { ProvisioningStore } from '../../store/provisioning-types.ts';
import type { NewReleaseDelta, Release, ReleaseDelta, ReleaseStore } from '../../store/release-types.ts';
import type { DeviceStore } from '../../store/types.ts';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import type { UpdateRepository } from '../metadata/update-repository.ts';
import { deltaTargetName, imageTargetName } from '../metadata/target-names.ts';
import { createPatch, type BsdiffTools } from './bsdiff.ts';
import { deltaWorthIt, selectDeltaBases, type DeltaCandidate } from './delta-selection.ts';

export interface DeltaBuilderDeps {
  artifacts: ArtifactStore;
  releases: ReleaseStore;
  devices: Pick<DeviceStore, 'installedVersions'>;
  repository: UpdateRepository;
  audit: Pick<ProvisioningStore, 'appendAudit'>;
  clock: Clock;
  logger: Logger;
  /** Scratch directory for patches being built. */
  workDir: string;
  tools?: BsdiffTools;
}

export interface DeltaBuilder {
  /** Queues builds for the bases `release` needs (or `baseVersions`); returns the bases queued. */
  schedule(release: Release, baseVersions?: readonly string[]): Promise<string[]>;
  /** Settles when every queued build has finished. */
  drain(): Promise<void>;
}

const ACTOR = 'server';

export function createDeltaBuilder(deps: DeltaBuilderDeps): DeltaBuilder {
  const queue = new KeyedSerialQueue();
  const log = deps.logger.child({ component: 'deltas' });

  async function record(delta: NewReleaseDelta): Promise<ReleaseDelta> {
    const atMs = deps.clock.now();
    const stored = await deps.releases.recordDelta(delta, atMs);
    await deps.audit.appendAudit({
      atMs,
      actor: ACTOR,
      action: `release.delta_${delta.status}`,
      target: `${delta.hardwareModel}@${delta.version}`,
      source: 'delta-builder',
      details: { ...delta },
    });
    return stored;
  }

  async function buildOne(release: Release, base: DeltaCandidate): Promise<void> {
    const common = {
      hardwareModel: release.hardwareModel,
      version: release.version,
      baseVersion: base.version,
      baseSha256: base.sha256,
    };
    await mkdir(deps.workDir, { recursive: true, mode: 0o700 });
    const work = await mkdtemp(join(deps.workDir, 'delta-'));
    try {
      const patchFile = join(work, 'patch.bsdiff');
      const stats = await createPatch(
        deps.artifacts.path(base.sha256),
        deps.artifacts.path(release.sha256),
        patchFile,
        deps.tools ? { tools: deps.tools } : {},
      );
      if (!deltaWorthIt(stats.bytes, release.size)) {
        const reason = `patch is ${stats.bytes} bytes, not under 90 % of the ${release.size}-byte image`;
        log.info({ ...common, reason }, 'delta skipped');
        await record({ ...common, status: 'skipped', patchSha256: null, patchSize: stats.bytes, reason });
        return;
      }
      const patch = await deps.artifacts.put(createReadStream(patchFile));
      await deps.repository.publish(
        [
          {
            name: deltaTargetName(release.hardwareModel, base.version, release.version),
            sha256: patch.sha256,
            length: patch.size,
            custom: {
              kind: 'delta',
              version: release.version,
              hardware: { model: release.hardwareModel, revisions: release.hardwareRevisions },
              base: { version: base.version, sha256: base.sha256 },
              target: {
                name: imageTargetName(release.hardwareModel, release.version),
                sha256: release.sha256,
                length: release.size,
              },
            },
          },
        ],
        { actor: ACTOR, source: 'delta-builder' },
      );
      await record({
        ...common,
        status: 'ready',
        patchSha256: patch.sha256,
        patchSize: patch.size,
        reason: null,
      });
      log.info({ ...common, bytes: patch.size, ms: stats.ms }, 'delta built');
    } catch (err) {
      log.error({ ...common, err }, 'delta build failed');
      const reason = err instanceof Error ? err.message : String(err);
      await record({ ...common, status: 'failed', patchSha256: null, patchSize: null, reason }).catch(
        (recordErr: unknown) => log.error({ ...common, err: recordErr }, 'could not record the failed delta'),
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  return {
    async schedule(release, baseVersions) {
      const [installed, releases] = await Promise.all([
        deps.devices.installedVersions(release.hardwareModel),
        deps.releases.listReleases({ hardwareModel: release.hardwareModel }),
      ]);
      const bases = selectDeltaBases({
        target: release,
        installed,
        releases,
        ...(baseVersions ? { requested: baseVersions } : {}),
      });
      for (const base of bases) {
        // One key: builds run one at a time across all releases.
        void queue.run('deltas', () => buildOne(release, base));
      }
      if (bases.length > 0)
        log.info({ release: release.id, bases: bases.map((b) => b.version) }, 'deltas queued');
      return bases.map((base) => base.version);
    },
    drain: () => queue.drain(),
  };
}
