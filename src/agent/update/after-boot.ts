/**
 * Steps after the reboot: the journal says what was intended, the boot state says what the
 * bootloader did. Booted the trial → health checks → commit (success) or revert and reboot
 * (rolled-back after coming back). Booted elsewhere with the trial spent → the bootloader fell
 * back (rolled-back, trial_boot_failed). Success is reported only once the slot is committed.
 */
import type { BootState } from './boot-control.ts';
import { jobOf, type ClientContext } from './client-context.ts';
import { UpdateRefusedError } from './errors.ts';
import { rollBackJob, succeedJob } from './finish.ts';
import { runHealthRounds } from './health.ts';
import { markAndReboot } from './install-step.ts';
import type { Job } from './journal.ts';
import { UPDATE_CLIENT_DEFAULTS } from './types.ts';

/** 'halt' once reboot() was called: the process must do nothing more. */
export type AfterBootResult = 'halt' | 'continue';

export async function afterBootStep(ctx: ClientContext): Promise<AfterBootResult> {
  const job = jobOf(ctx);
  const boot = await ctx.deps.bootControl.state();
  const onTrialSlot = boot.booted === job.slot;
  switch (job.phase) {
    case 'rebooting':
      if (onTrialSlot) return verifyStep(ctx, job);
      if (trialSpent(boot, job)) return fellBack(ctx, job);
      // The trial was not marked yet, or marked without a reboot (agent restart): do it now.
      await markAndReboot(ctx);
      return 'halt';
    case 'verifying':
      if (!onTrialSlot) return fellBack(ctx, job);
      if (boot.primary === job.slot && !boot.trial) {
        await succeedJob(ctx, job); // committed just before a crash
        return 'continue';
      }
      return verifyStep(ctx, job);
    case 'reverting':
      await ctx.deps.bootControl.revert();
      if (onTrialSlot) {
        await ctx.deps.reboot();
        return 'halt';
      }
      await rollBackJob(ctx, job, 'health_check_failed', 'health checks failed on the new slot');
      return 'continue';
    case 'accepted':
    case 'downloading':
    case 'downloaded':
    case 'installing':
      throw new UpdateRefusedError('internal', `afterBootStep called in phase ${job.phase}`);
  }
}

function trialSpent(boot: BootState, job: Job): boolean {
  const { trial } = boot;
  return trial !== undefined && trial.slot === job.slot && trial.triesLeft === 0;
}

async function fellBack(ctx: ClientContext, job: Job): Promise<AfterBootResult> {
  // Forget the spent trial so the next update starts from a clean env.
  await ctx.deps.bootControl.revert();
  await rollBackJob(ctx, job, 'trial_boot_failed', 'the new slot did not boot; the bootloader fell back');
  return 'continue';
}

async function verifyStep(ctx: ClientContext, job: Job): Promise<AfterBootResult> {
  await ctx.commit(
    (s) => {
      if (s.job) s.job.phase = 'verifying';
    },
    { job, status: { state: 'verifying', delta: job.artifact?.delta ?? false } },
  );
  await ctx.checkpoint('verifying');
  const rounds = ctx.options.healthRounds ?? UPDATE_CLIENT_DEFAULTS.healthRounds;
  const delayMs = ctx.options.healthRetryDelayMs ?? UPDATE_CLIENT_DEFAULTS.healthRetryDelayMs;
  const health = await runHealthRounds(ctx.options.healthChecks, rounds, () => ctx.sleep(delayMs));
  if (health.healthy) {
    await ctx.deps.bootControl.commit();
    await ctx.checkpoint('committed');
    await succeedJob(ctx, job);
    return 'continue';
  }
  ctx.deps.logger.warn({ failed: health.failed }, 'new slot unhealthy; reverting');
  await ctx.commit((s) => {
    if (s.job) s.job = { ...s.job, phase: 'reverting', reason: 'health_check_failed' };
  });
  await ctx.checkpoint('reverting');
  await ctx.deps.bootControl.revert();
  await ctx.checkpoint('reverted');
  await ctx.deps.reboot();
  return 'halt';
}
