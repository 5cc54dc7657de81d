/**
 * Steps `downloaded` → `installing` → `rebooting`: honour the maintenance window and the update
 * lock, write the verified image into the inactive slot (never the booted one), read it back,
 * mark the slot for one trial boot and reboot. The journal says `rebooting` before the trial is marked, so a crash between
 * the two just marks it again.
 */
import { windowState } from '../../contracts/maintenance-window.ts';
import { isoTime } from '../../infra/clock.ts';
import { otherSlot } from './boot-control.ts';
import { jobOf, type ClientContext } from './client-context.ts';
import { prepareImage, requirePlan } from './fetch-step.ts';
import { UpdateRefusedError } from './errors.ts';
import type { Job } from './journal.ts';
import { writeSlot } from './slots.ts';

/**
 * True when the job may be installed now; otherwise reports why it waits. Only this step waits:
 * an install that started inside the window is finished even if the window closes meanwhile.
 */
export async function installGate(ctx: ClientContext, job: Job): Promise<boolean> {
  if (!job.installRequested) return false; // `downloaded` was reported; install() or a new offer continues
  if (!(await insideWindow(ctx, job))) return false;
  if (job.offer.force || !(await isLocked(ctx))) return true;
  ctx.deps.logger.info({ deploymentId: job.offer.deploymentId }, 'update deferred by the update lock');
  const { artifact } = requirePlan(job);
  await ctx.commit(() => {}, {
    job,
    status: { state: 'downloaded', detail: 'deferred by the update lock', delta: artifact.delta },
  });
  return false;
}

/**
 * True when the offer has no maintenance window or it is open at the client's clock. `force`
 * does not bypass it: the window is the operator's choice of when devices may restart. The wait
 * is reported once per opening (journaled), not on every re-check.
 */
async function insideWindow(ctx: ClientContext, job: Job): Promise<boolean> {
  const window = job.offer.installWindow;
  if (window === undefined || window === null) return true;
  const state = windowState(window, ctx.deps.clock.now());
  if (state.open) return true;
  const opensAtMs = state.opensAtMs ?? null;
  if (job.windowOpensAtMs === opensAtMs) return false;
  const opens = opensAtMs === null ? 'never opens again' : `opens ${isoTime(opensAtMs)}`;
  ctx.deps.logger.info(
    { deploymentId: job.offer.deploymentId, opens },
    'update waits for its maintenance window',
  );
  const { artifact } = requirePlan(job);
  await ctx.commit(
    (s) => {
      if (s.job) s.job.windowOpensAtMs = opensAtMs;
    },
    {
      job,
      status: {
        state: 'downloaded',
        detail: `waiting for the maintenance window (${opens})`,
        delta: artifact.delta,
      },
    },
  );
  return false;
}

async function isLocked(ctx: ClientContext): Promise<boolean> {
  const lock = ctx.options.updateLock;
  if (lock === undefined) return false;
  if (typeof lock === 'string') return (await ctx.deps.disk.size(lock)) !== undefined;
  return await lock();
}

export async function installStep(ctx: ClientContext): Promise<void> {
  const { bootControl } = ctx.deps;
  const boot = await bootControl.state();
  const target = otherSlot(boot.booted);
  // A trial must never point at a slot while it is being written.
  if (boot.trial) await bootControl.revert();
  const job = jobOf(ctx);
  const { image, artifact } = requirePlan(job);
  await ctx.commit(
    (s) => {
      if (s.job) s.job = { ...s.job, phase: 'installing', slot: target };
      delete s.slots[target];
    },
    { job, status: { state: 'installing', progress: 0, delta: artifact.delta } },
  );
  await ctx.checkpoint('installing');
  const source = await prepareImage(ctx, jobOf(ctx));
  await writeSlot(ctx.deps.disk, {
    layout: ctx.options.slots,
    target,
    booted: boot.booted,
    source,
    image,
  });
  await ctx.checkpoint('slot-written');
  await ctx.commit(
    (s) => {
      if (s.job) s.job.phase = 'rebooting';
    },
    { job, status: { state: 'rebooting', delta: artifact.delta } },
  );
  await ctx.checkpoint('rebooting');
  await markAndReboot(ctx);
}

/** Marks the job's slot for one trial boot and reboots (also used to redo it after a restart). */
export async function markAndReboot(ctx: ClientContext): Promise<void> {
  const { slot } = jobOf(ctx);
  if (slot === undefined) throw new UpdateRefusedError('internal', 'journal has no slot');
  await ctx.deps.bootControl.markTrial(slot);
  await ctx.checkpoint('trial-marked');
  await ctx.deps.reboot();
}
