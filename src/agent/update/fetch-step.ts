/**
 * Step `downloading` → `downloaded`: resume the part file, check its sha256 against the signed
 * target; for a delta, apply it to the booted image (checking base and result sha256); check the
 * minisign signature when a key is configured. Nothing touches a slot here.
 */
import { applyPatch as bspatchApply, InvalidPatchError } from '../../ota/delta/bsdiff.ts';
import { MinisignError, parsePublicKey } from '../../signing/minisign.ts';
import { verifyFile } from '../../signing/minisign-verify.ts';
import { jobOf, type ClientContext } from './client-context.ts';
import { downloadToPart, sha256Of } from './download.ts';
import { UpdateRefusedError } from './errors.ts';
import type { Job } from './journal.ts';
import { UPDATE_CLIENT_DEFAULTS } from './types.ts';

export async function fetchStep(ctx: ClientContext, signal: AbortSignal): Promise<void> {
  const job = jobOf(ctx);
  const { artifact } = requirePlan(job);
  const settings = { ...UPDATE_CLIENT_DEFAULTS, ...ctx.options.download };
  let lastPercent = Math.floor((job.partBytes / Math.max(1, artifact.length)) * 10);
  await downloadToPart(ctx.deps.disk, ctx.get, {
    url: `${ctx.options.deviceHttpUrl}/device/v1/tuf/targets/${artifact.sha256}.${artifact.name}`,
    partPath: ctx.paths.part,
    file: artifact,
    // A part file shorter than journaled (lost or replaced) restarts the download from zero.
    startBytes: ((await ctx.deps.disk.size(ctx.paths.part)) ?? 0) >= job.partBytes ? job.partBytes : 0,
    syncEveryBytes: settings.syncEveryBytes,
    attempts: settings.attempts,
    retryDelayMs: settings.retryDelayMs,
    sleep: (ms) => ctx.sleep(ms),
    signal,
    onDurable: async (bytes) => {
      // Report every 10 %; journal every sync so a restart resumes here.
      const percent = Math.floor((bytes / Math.max(1, artifact.length)) * 10);
      const current = jobOf(ctx);
      const report =
        percent > lastPercent
          ? {
              job: current,
              status: {
                state: 'downloading' as const,
                progress: Math.min(100, percent * 10),
                bytes,
                delta: artifact.delta,
              },
            }
          : undefined;
      lastPercent = percent;
      await ctx.commit((s) => {
        if (s.job) s.job.partBytes = bytes;
      }, report);
      await ctx.checkpoint('part-synced');
    },
  });
  if ((await sha256Of(ctx.deps.disk, ctx.paths.part)) !== artifact.sha256) {
    // Start over next time rather than resume a corrupt file.
    await ctx.deps.disk.remove(ctx.paths.part);
    throw new UpdateRefusedError('hash_mismatch', `${artifact.name}: sha256 differs from the signed target`);
  }
  const imagePath = await prepareImage(ctx, jobOf(ctx));
  await verifySignature(ctx, jobOf(ctx), imagePath);
  const done = jobOf(ctx);
  await ctx.commit(
    (s) => {
      if (s.job) s.job.phase = 'downloaded';
    },
    { job: done, status: { state: 'downloaded', bytes: artifact.length, delta: artifact.delta } },
  );
  await ctx.checkpoint('downloaded');
}

export function requirePlan(job: Job): {
  artifact: NonNullable<Job['artifact']>;
  image: NonNullable<Job['image']>;
} {
  if (!job.artifact || !job.image) throw new UpdateRefusedError('internal', 'journal has no planned target');
  return { artifact: job.artifact, image: job.image };
}

/**
 * The path of the verified full image: the part file itself, or for a delta the patched result
 * (a scratch file, rebuilt if a restart lost it; its sha256 is checked either way).
 */
export async function prepareImage(ctx: ClientContext, job: Job): Promise<string> {
  const { artifact, image } = requirePlan(job);
  if (!artifact.delta) return ctx.paths.part;
  const { disk } = ctx.deps;
  if (
    (await disk.size(ctx.paths.staged)) === image.length &&
    (await sha256Of(disk, ctx.paths.staged)) === image.sha256
  )
    return ctx.paths.staged;
  const { booted } = await ctx.deps.bootControl.state();
  const base = ctx.state.slots[booted];
  if (!base) throw new UpdateRefusedError('wrong_base', 'the booted image is unknown');
  // bspatch reads its base as a whole file, so copy the image (not the whole partition) out first.
  await copyPrefix(ctx, ctx.options.slots.paths[booted], ctx.paths.base, base.length);
  try {
    if ((await sha256Of(disk, ctx.paths.base)) !== base.sha256)
      throw new UpdateRefusedError('wrong_base', 'the booted slot does not hold the image the delta is for');
    try {
      await (ctx.deps.applyPatch ?? bspatchApply)(ctx.paths.base, ctx.paths.part, ctx.paths.staged, {
        maxNewBytes: image.length,
      });
    } catch (err) {
      if (err instanceof InvalidPatchError) throw new UpdateRefusedError('patch_failed', err.message);
      throw err;
    }
  } finally {
    await disk.remove(ctx.paths.base);
  }
  // The patch bytes matched their signed hash, so a wrong result means it was made from another base.
  if ((await sha256Of(disk, ctx.paths.staged)) !== image.sha256) {
    await disk.remove(ctx.paths.staged);
    throw new UpdateRefusedError('wrong_base', 'the patched image does not match the signed image sha256');
  }
  return ctx.paths.staged;
}

async function copyPrefix(ctx: ClientContext, from: string, to: string, length: number): Promise<void> {
  const { disk } = ctx.deps;
  await disk.remove(to);
  const writer = await disk.openWriter(to);
  try {
    let offset = 0;
    for await (const chunk of disk.readChunks(from, length)) {
      await writer.write(chunk, offset);
      offset += chunk.length;
    }
  } finally {
    await writer.close();
  }
}

async function verifySignature(ctx: ClientContext, job: Job, imagePath: string): Promise<void> {
  const keyText = ctx.options.minisignPublicKey;
  if (keyText === undefined) return;
  if (job.minisig === undefined)
    throw new UpdateRefusedError('signature_invalid', 'the image has no signature');
  try {
    await verifyFile(imagePath, job.minisig, parsePublicKey(keyText));
  } catch (err) {
    if (err instanceof MinisignError) throw new UpdateRefusedError('signature_invalid', err.message);
    throw err;
  }
}
