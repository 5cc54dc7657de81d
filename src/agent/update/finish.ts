/**
 * Ending a job with a final status (success, failed, rolled-back). The status is journaled as
 * `lastFinal` before it is sent and marked sent afterwards, so a power cut in between re-sends it
 * on the next start: final statuses are delivered at least once, never invented.
 */
import type { UpdateFailureReason } from '../../contracts/update-messages.ts';
import { nextSeq } from '../state.ts';
import { buildStatus, reportSafely, type ClientContext, type StatusBody } from './client-context.ts';
import type { ClientState, Job } from './journal.ts';
import { raisedFloor } from './target-policy.ts';

export async function finishJob(
  ctx: ClientContext,
  job: Job,
  body: StatusBody,
  mutate: (state: ClientState) => void = () => {},
): Promise<void> {
  const seq = nextSeq(ctx.state.seq, ctx.deps.clock.now());
  const status = buildStatus(job, seq, body);
  await ctx.commit((s) => {
    mutate(s);
    s.seq = seq;
    delete s.job;
    s.lastFinal = { status, sent: false };
  });
  await ctx.checkpoint('finished');
  await sendFinal(ctx);
  await ctx.deps.disk.remove(ctx.paths.part);
  await ctx.deps.disk.remove(ctx.paths.staged);
}

/** Sends `lastFinal` if it is not known to have gone out. */
export async function sendFinal(ctx: ClientContext): Promise<void> {
  const final = ctx.state.lastFinal;
  if (!final || final.sent) return;
  if (!(await reportSafely(ctx.deps, final.status))) return;
  await ctx.commit((s) => {
    if (s.lastFinal) s.lastFinal.sent = true;
  });
}

/** Re-sends the final status of a deployment the server offers again (it missed the first). */
export async function resendFinal(ctx: ClientContext): Promise<void> {
  const final = ctx.state.lastFinal;
  if (!final) return;
  const seq = nextSeq(ctx.state.seq, ctx.deps.clock.now());
  await ctx.commit((s) => {
    s.seq = seq;
    s.lastFinal = { status: { ...final.status, seq }, sent: false };
  });
  await sendFinal(ctx);
}

export function failJob(
  ctx: ClientContext,
  job: Job,
  reason: UpdateFailureReason,
  detail: string,
): Promise<void> {
  ctx.deps.logger.warn({ deploymentId: job.offer.deploymentId, reason, detail }, 'update failed');
  return finishJob(ctx, job, { state: 'failed', reason, detail: detail.slice(0, 1000) }, (s) => {
    if (job.slot !== undefined && job.phase === 'installing') delete s.slots[job.slot];
  });
}

export function succeedJob(ctx: ClientContext, job: Job): Promise<void> {
  const { image, slot } = job;
  return finishJob(ctx, job, { state: 'success', progress: 100 }, (s) => {
    if (!image || slot === undefined) return;
    s.slots[slot] = { version: image.version, sha256: image.sha256, length: image.length };
    const floor = raisedFloor(s.floorVersion, image);
    if (floor !== undefined) s.floorVersion = floor;
  });
}

export function rollBackJob(
  ctx: ClientContext,
  job: Job,
  reason: 'trial_boot_failed' | 'health_check_failed',
  detail: string,
): Promise<void> {
  ctx.deps.logger.warn({ deploymentId: job.offer.deploymentId, reason, detail }, 'update rolled back');
  return finishJob(ctx, job, { state: 'rolled-back', reason, detail }, (s) => {
    if (job.slot !== undefined) delete s.slots[job.slot];
  });
}
