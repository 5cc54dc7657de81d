/**
 * The server's TUF repository in `<dataDir>/tuf/repo` (layout in src/signing/tuf/layout.ts).
 * Publications run one at a time, because every one writes the next targets, snapshot and
 * timestamp versions (TUF 5.5.5 and 5.6.4: versions must strictly increase). Target bytes stay
 * in the artifact store; only metadata is written here.
 */
import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../infra/clock.ts';
import { ConflictError, ForbiddenError, NotFoundError } from '../../infra/errors.ts';
import { KeyedSerialQueue } from '../../infra/keyed-queue.ts';
import { ensurePrivateDir, fileExists } from '../../pki/pem-files.ts';
import {
  addTargets,
  canonicalSignedBytes,
  createRepository,
  ed25519Signer,
  openRepository,
  publishSignedTargets,
  publishSnapshot,
  refreshTimestamp,
} from '../../signing/tuf/index.ts';
import type {
  DetachedSignature,
  PublishedVersions,
  RoleLifetimesMs,
  TargetInput,
  TufRepository,
} from '../../signing/tuf/index.ts';
import { latestVersion, readMetadata } from '../../signing/tuf/layout.ts';
import type { ProvisioningStore } from '../../store/provisioning-types.ts';
import { dueForRefresh } from './metadata-refresher.ts';
import { pendingTargetsStore, type PendingTargets } from './pending-targets.ts';
import { generateRoleKeys, readRoleKeys, type RoleKeys } from './server-keys.ts';

export interface UpdateRepositoryDeps {
  clock: Clock;
  logger: Logger;
  audit: Pick<ProvisioningStore, 'appendAudit'>;
  lifetimesMs?: Partial<RoleLifetimesMs>;
}

export interface UpdateRepository {
  /** The repository directory served at `/device/v1/tuf/`. */
  readonly dir: string;
  /** Whether the targets key is on this server (else targets are staged for offline signing). */
  readonly targetsKeyOnline: boolean;
  /**
   * Adds targets and signs new targets, snapshot and timestamp metadata; with the targets key
   * offline, stages them for `publishSignedTargets` instead. Audited.
   */
  publish(targets: readonly TargetInput[], context: AuditContext): Promise<PublishOutcome>;
  /** The staged targets metadata waiting for an offline signature, if any. */
  pendingTargets(): Promise<PendingTargets | undefined>;
  /**
   * Publishes the staged targets metadata with signatures made offline (`signed` must be exactly
   * the staged object), then a new snapshot and timestamp. Audited.
   */
  publishSignedTargets(
    submission: { version: number; signed: Record<string, unknown>; signatures: DetachedSignature[] },
    context: AuditContext,
  ): Promise<PublishedVersions>;
  /** Re-signs snapshot and/or timestamp when less than half their lifetime is left. */
  refreshExpiring(): Promise<void>;
  /** Whether `name` with this sha256 is a target of the current targets metadata. */
  hasTarget(name: string, sha256: string): Promise<boolean>;
}

export interface AuditContext {
  actor: string;
  source: string;
}

/** Published now, or staged until the offline targets key signs (`version` to be signed). */
export type PublishOutcome =
  { staged: false; versions: PublishedVersions } | { staged: true; version: number; names: string[] };

const QUEUE_KEY = 'tuf';

/**
 * Opens the repository, creating it with fresh keys on first start (the embedded default: all
 * four role keys online, which logs a warning). ConfigError when online keys are missing.
 */
export async function openUpdateRepository(
  dataDir: string,
  deps: UpdateRepositoryDeps,
): Promise<UpdateRepository> {
  const dir = join(dataDir, 'tuf', 'repo');
  const keysDir = join(dataDir, 'tuf', 'keys');
  await ensurePrivateDir(join(dataDir, 'tuf'));
  const isNew = !(await fileExists(join(dir, '1.root.json')));
  if (isNew) await generateRoleKeys(keysDir);
  const keys = await readRoleKeys(keysDir);
  const repo = await openOrCreate(dir, keys, isNew, deps);
  if (keys.root || keys.targets) {
    deps.logger.warn(
      { keysDir, online: [keys.root ? 'root' : '', keys.targets ? 'targets' : ''].filter(Boolean) },
      'TUF root/targets keys are in the data directory; for production keep them offline',
    );
  }
  const targetsSigner = keys.targets ? ed25519Signer(keys.targets) : undefined;
  const queue = new KeyedSerialQueue();
  /**
   * name → sha256 of the newest targets metadata, read once and kept until this module writes new
   * metadata: every target download asks hasTarget, and must not re-read and re-parse the file.
   */
  let targetsIndex: Promise<Map<string, string>> | undefined;
  /** Runs a metadata write one at a time, then forgets the cached targets. */
  const writing = <T>(write: () => Promise<T>): Promise<T> =>
    queue.run(QUEUE_KEY, async () => {
      try {
        return await write();
      } finally {
        targetsIndex = undefined;
      }
    });
  const pending = pendingTargetsStore(repo, join(dataDir, 'tuf', 'pending-targets.json'));

  const stage = async (targets: readonly TargetInput[], context: AuditContext): Promise<PublishOutcome> => {
    const staged = await pending.stage(targets);
    const names = targets.map((t) => t.name);
    await deps.audit.appendAudit({
      atMs: deps.clock.now(),
      actor: context.actor,
      action: 'tuf.targets_staged',
      target: `targets@${staged.version}`,
      source: context.source,
      details: { names, pending: staged.names },
    });
    deps.logger.warn(
      { version: staged.version, names },
      'TUF targets key offline: targets staged; sign them with `flotilla firmware sign-metadata`',
    );
    return { staged: true, version: staged.version, names: staged.names };
  };

  const publish: UpdateRepository['publish'] = (targets, context) =>
    writing(async () => {
      if (!targetsSigner) return stage(targets, context);
      const versions = await addTargets(repo, targets, [targetsSigner]);
      await deps.audit.appendAudit({
        atMs: deps.clock.now(),
        actor: context.actor,
        action: 'tuf.metadata_published',
        target: `targets@${versions.targets}`,
        source: context.source,
        details: { ...versions, names: targets.map((t) => t.name) },
      });
      deps.logger.info({ ...versions, names: targets.map((t) => t.name) }, 'TUF metadata published');
      return { staged: false, versions };
    });

  const publishSigned: UpdateRepository['publishSignedTargets'] = (submission, context) =>
    writing(async () => {
      const staged = await pending.current();
      if (!staged) throw new NotFoundError('no staged targets to sign');
      if (
        submission.version !== staged.version ||
        !canonicalSignedBytes(submission.signed).equals(staged.canonical)
      ) {
        throw new ConflictError('the signed metadata is not the staged one; fetch it again', {
          version: staged.version,
        });
      }
      const versions = await publishSignedTargets(repo, staged.signed, submission.signatures);
      await pending.clear();
      await deps.audit.appendAudit({
        atMs: deps.clock.now(),
        actor: context.actor,
        action: 'tuf.targets_signed_offline',
        target: `targets@${versions.targets}`,
        source: context.source,
        details: { ...versions, names: staged.names, keyIds: submission.signatures.map((s) => s.keyid) },
      });
      deps.logger.info({ ...versions, names: staged.names }, 'TUF targets signed offline published');
      return versions;
    });

  if (isNew && targetsSigner) await publish([], { actor: 'server', source: 'start' });

  return {
    dir,
    targetsKeyOnline: targetsSigner !== undefined,
    publish,
    pendingTargets: () => queue.run(QUEUE_KEY, () => pending.current()),
    publishSignedTargets: publishSigned,
    refreshExpiring: () =>
      writing(async () => {
        if (await targetsDue(repo)) {
          if (targetsSigner) {
            const versions = await addTargets(repo, [], [targetsSigner]);
            deps.logger.info(versions, 'TUF targets re-signed before expiry');
            return;
          }
          // Offline key: stage a re-signing (same targets, fresh expiry) for `firmware sign-metadata`.
          if ((await pending.current()) === undefined)
            await stage([], { actor: 'server', source: 'refresher' });
        }
        await refreshExpiring(repo, deps.logger);
      }),
    async hasTarget(name, sha256) {
      targetsIndex ??= readTargetsIndex(dir);
      try {
        return (await targetsIndex).get(name) === sha256;
      } catch (err) {
        targetsIndex = undefined; // read again next time
        throw err;
      }
    },
  };
}

async function readTargetsIndex(dir: string): Promise<Map<string, string>> {
  const version = await latestVersion(dir, 'targets');
  if (version === 0) return new Map();
  const targets = (await readMetadata(dir, 'targets', version)).signed.targets;
  return new Map(Object.entries(targets).map(([name, file]) => [name, file.hashes['sha256'] ?? '']));
}

async function openOrCreate(
  dir: string,
  keys: RoleKeys,
  isNew: boolean,
  deps: UpdateRepositoryDeps,
): Promise<TufRepository> {
  const repoDeps = {
    clock: deps.clock,
    snapshotSigner: ed25519Signer(keys.snapshot),
    timestampSigner: ed25519Signer(keys.timestamp),
    ...(deps.lifetimesMs ? { lifetimesMs: deps.lifetimesMs } : {}),
  };
  if (!isNew) return openRepository(dir, repoDeps);
  if (!keys.root || !keys.targets)
    throw new ForbiddenError('a new TUF repository needs root and targets keys');
  return createRepository(
    dir,
    {
      rootKeys: [createPublicKey(keys.root)],
      targetsKeys: [createPublicKey(keys.targets)],
      snapshotKey: createPublicKey(keys.snapshot),
      timestampKey: createPublicKey(keys.timestamp),
      rootSigners: [ed25519Signer(keys.root)],
    },
    repoDeps,
  );
}

/** Targets metadata under half its lifetime (TUF 4.4 expiry): re-sign it (online key) or stage it. */
async function targetsDue(repo: TufRepository): Promise<boolean> {
  const version = await latestVersion(repo.dir, 'targets');
  if (version === 0) return false;
  const targets = await readMetadata(repo.dir, 'targets', version);
  return dueForRefresh(repo.clock.now(), Date.parse(targets.signed.expires), repo.lifetimesMs.targets);
}

/** TUF 4.5/4.6: a new snapshot also re-signs the timestamp, so check the snapshot first. */
async function refreshExpiring(repo: TufRepository, logger: Logger): Promise<void> {
  if ((await latestVersion(repo.dir, 'snapshot')) === 0) return;
  const nowMs = repo.clock.now();
  const snapshot = await readMetadata(repo.dir, 'snapshot', await latestVersion(repo.dir, 'snapshot'));
  if (dueForRefresh(nowMs, Date.parse(snapshot.signed.expires), repo.lifetimesMs.snapshot)) {
    const version = await publishSnapshot(repo);
    logger.info({ snapshot: version }, 'TUF snapshot re-signed before expiry');
    return;
  }
  const timestamp = await readMetadata(repo.dir, 'timestamp', 0);
  if (dueForRefresh(nowMs, Date.parse(timestamp.signed.expires), repo.lifetimesMs.timestamp)) {
    const version = await refreshTimestamp(repo);
    logger.info({ timestamp: version }, 'TUF timestamp re-signed before expiry');
  }
}
