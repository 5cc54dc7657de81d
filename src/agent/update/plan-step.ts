/**
 * Step `accepted` → `downloading`: verify the metadata (TUF 5.3-5.6), find the offered target,
 * check its custom fields against the device BEFORE downloading anything, and choose a delta
 * when one is signed for exactly the booted image.
 */
import { createTufFetcher, refreshTargets, type VerifiedTargets } from './tuf-metadata.ts';
import { backUpTrustedRoot, restoreTrustedRoot } from './trusted-root.ts';
import { jobOf, type ClientContext } from './client-context.ts';
import { UpdateRefusedError } from './errors.ts';
import { checkImagePolicy, parseImageCustom, pickDelta, type DeviceFacts } from './target-policy.ts';
import { readBody } from './transport.ts';
import type { Slot } from './boot-control.ts';
import { UPDATE_CLIENT_DEFAULTS } from './types.ts';

/** Largest minisign signature file accepted, in bytes. */
const MAX_MINISIG_BYTES = 4096;

export function deviceFacts(ctx: ClientContext, booted: Slot): DeviceFacts {
  const facts: DeviceFacts = {
    hardware: ctx.options.hardware,
    installedVersion: ctx.state.slots[booted]?.version ?? ctx.options.installed.version,
  };
  if (ctx.state.floorVersion !== undefined) facts.floorVersion = ctx.state.floorVersion;
  return facts;
}

export async function planStep(ctx: ClientContext, signal?: AbortSignal): Promise<void> {
  const job = jobOf(ctx);
  const { booted } = await ctx.deps.bootControl.state();
  const targets = await refreshWithRetries(ctx, signal);
  const target = await targets.get(job.offer.target);
  if (!target) throw new UpdateRefusedError('unknown_target', `${job.offer.target} is not a signed target`);
  const image = parseImageCustom(target.custom);
  const facts = deviceFacts(ctx, booted);
  checkImagePolicy(image, facts);

  const installed = ctx.state.slots[booted];
  const candidate = pickDelta(await targets.all(), target.file, installed?.sha256, facts);
  // Confirm the listed delta against the trusted set tuf-js holds in memory.
  const delta = candidate ? await targets.get(candidate.name) : undefined;
  const artifact = delta ? { ...delta.file, delta: true } : { ...target.file, delta: false };

  const minisig =
    ctx.options.minisignPublicKey === undefined ? undefined : await fetchSignature(ctx, target.file.sha256);
  const signedImage = { ...target.file, version: image.version };
  const withMin =
    image.minVersion === undefined ? signedImage : { ...signedImage, minVersion: image.minVersion };
  await ctx.commit(
    (s) => {
      s.job = { ...job, phase: 'downloading', image: withMin, artifact, partBytes: 0 };
      if (minisig !== undefined) s.job.minisig = minisig;
    },
    {
      job: { ...job, image: withMin },
      status: { state: 'downloading', progress: 0, bytes: 0, delta: artifact.delta },
    },
  );
  await ctx.checkpoint('planned');
}

/**
 * The metadata refresh, retried when the server cannot be reached (restarting, a dropped
 * connection) with the image download's attempts and pause: a server restart must not fail the
 * devices that were fetching metadata just then. Anything else (bad signature, expiry) fails at once.
 */
async function refreshWithRetries(ctx: ClientContext, signal?: AbortSignal): Promise<VerifiedTargets> {
  const { attempts, retryDelayMs } = { ...UPDATE_CLIENT_DEFAULTS, ...ctx.options.download };
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      await restoreTrustedRoot(ctx.deps.disk, ctx.options.tufMetadataDir, ctx.paths.rootBackup);
      const targets = await refreshTargets({
        metadataDir: ctx.options.tufMetadataDir,
        metadataBaseUrl: `${ctx.options.deviceHttpUrl}/device/v1/tuf`,
        fetcher: createTufFetcher(ctx.get),
      });
      await backUpTrustedRoot(ctx.deps.disk, ctx.options.tufMetadataDir, ctx.paths.rootBackup);
      return targets;
    } catch (err) {
      const unreachable = err instanceof UpdateRefusedError && err.reason === 'download_failed';
      if (!unreachable || attempt >= attempts) throw err;
      await ctx.sleep(retryDelayMs);
    }
  }
}

async function fetchSignature(ctx: ClientContext, sha256: string): Promise<string> {
  const url = `${ctx.options.deviceHttpUrl}/device/v1/artifacts/${sha256}/minisig`;
  let res;
  try {
    res = await ctx.get(url);
  } catch (err) {
    throw new UpdateRefusedError('download_failed', `signature: ${(err as Error).message}`);
  }
  if (res.statusCode !== 200) {
    res.resume();
    if (res.statusCode === 404)
      throw new UpdateRefusedError('signature_invalid', 'the image has no signature');
    throw new UpdateRefusedError('download_failed', `signature: HTTP ${res.statusCode ?? 0}`);
  }
  try {
    return (await readBody(res, MAX_MINISIG_BYTES)).toString('utf8');
  } catch (err) {
    throw new UpdateRefusedError('signature_invalid', `signature: ${(err as Error).message}`);
  }
}
