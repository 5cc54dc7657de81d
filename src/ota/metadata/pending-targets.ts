/**
 * Targets staged while the TUF targets key is offline, in `<dataDir>/tuf/pending-targets.json`
 * (written atomically). The file holds the staged targets and the unsigned targets metadata
 * that adds them; an operator signs that (`flotilla firmware sign-metadata`) and the server
 * publishes it. TUF 6.1 recommends keeping the targets key offline.
 */
import { rm } from 'node:fs/promises';
import { z } from 'zod';
import { buildTargets, canonicalSignedBytes, TargetCustomSchema } from '../../signing/tuf/index.ts';
import type { TargetInput, TufRepository } from '../../signing/tuf/index.ts';
import { latestVersion, writeAtomic } from '../../signing/tuf/layout.ts';
import { readOptional } from '../../pki/pem-files.ts';

const StagedTargetSchema = z.object({
  name: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  length: z.number().int().nonnegative(),
  custom: TargetCustomSchema,
});

const PendingFileSchema = z.object({
  targets: z.array(StagedTargetSchema),
  /** The targets metadata `signed` object to sign (TUF 4.4), exactly as served. */
  signed: z.record(z.string(), z.unknown()),
});

/** What waits for an offline targets signature. */
export interface PendingTargets {
  /** Version of the targets metadata to sign. */
  version: number;
  names: string[];
  signed: Record<string, unknown>;
  /** The canonical JSON bytes of `signed` (TUF 4.2), which the targets key signs. */
  canonical: Buffer;
}

export interface PendingTargetsStore {
  /** Adds targets (same name replaces) and rebuilds the metadata to sign. */
  stage(targets: readonly TargetInput[]): Promise<PendingTargets>;
  /** The staged metadata, rebuilt if the targets metadata moved on meanwhile. */
  current(): Promise<PendingTargets | undefined>;
  clear(): Promise<void>;
}

export function pendingTargetsStore(repo: TufRepository, file: string): PendingTargetsStore {
  async function read(): Promise<z.infer<typeof PendingFileSchema> | undefined> {
    const text = await readOptional(file);
    return text === undefined ? undefined : PendingFileSchema.parse(JSON.parse(text));
  }

  async function write(targets: readonly TargetInput[]): Promise<PendingTargets> {
    const metadata = await buildTargets(repo, targets);
    const names = targets.map((t) => t.name);
    const staged = names.map((name) => {
      const built = metadata.signed.targets[name];
      if (!built) throw new Error(`staged target ${name} missing from the built metadata`);
      return { name, length: built.length, sha256: built.hashes['sha256'] ?? '', custom: built.custom };
    });
    const signed = metadata.signed.toJSON();
    await writeAtomic(file, JSON.stringify(PendingFileSchema.parse({ targets: staged, signed }), null, 1));
    return { version: metadata.signed.version, names, signed, canonical: canonicalSignedBytes(signed) };
  }

  return {
    async stage(targets) {
      const byName = new Map<string, TargetInput>();
      for (const staged of (await read())?.targets ?? []) byName.set(staged.name, staged);
      for (const target of targets) byName.set(target.name, target);
      return write([...byName.values()]);
    },
    async current() {
      const pending = await read();
      // An empty list is a staged re-signing (same targets, fresh expiry) and still pending.
      if (!pending) return undefined;
      const expected = (await latestVersion(repo.dir, 'targets')) + 1;
      if (pending.signed['version'] !== expected) return write(pending.targets);
      return {
        version: expected,
        names: pending.targets.map((t) => t.name),
        signed: pending.signed,
        canonical: canonicalSignedBytes(pending.signed),
      };
    },
    clear: () => rm(file, { force: true }),
  };
}
