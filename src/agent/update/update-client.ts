/**
 * The device-side update client (see docs/update-client.md). One job at a time, driven step by
 * step from the durable journal; calls are serialised. Offer rules:
 *   - same deployment again: merges installNow/force (may start the install), or re-sends its
 *     final status if it already ended;
 *   - another deployment (or null) while the job has not started installing: the job is
 *     cancelled (`failed`, reason cancelled) and the new offer starts;
 *   - another deployment once the slot is being written: queued; it starts when the job ends.
 */
import { updateOfferSchema, type UpdateOffer } from '../../contracts/update-messages.ts';
import { ValidationError } from '../../infra/errors.ts';
import { afterBootStep } from './after-boot.ts';
import { createContext, statePaths, type ClientContext } from './client-context.ts';
import { sha256Of } from './download.ts';
import { UpdateRefusedError } from './errors.ts';
import { fetchStep } from './fetch-step.ts';
import { failJob, resendFinal, sendFinal } from './finish.ts';
import { installGate, installStep } from './install-step.ts';
import { loadState, saveState, type ClientState, type Job, type JobPhase } from './journal.ts';
import { planStep } from './plan-step.ts';
import { createHttpGet } from './transport.ts';
import type { UpdateClient, UpdateClientDeps, UpdateClientOptions } from './types.ts';

/** Before these phases a job can be cancelled; from `installing` on it is finished first. */
const CANCELLABLE: readonly JobPhase[] = ['accepted', 'downloading', 'downloaded'];

export function createUpdateClient(deps: UpdateClientDeps, options: UpdateClientOptions): UpdateClient {
  const get = deps.httpGet ?? createHttpGet(options.tls);
  let ctx: ClientContext | undefined;
  /** Set once reboot() was called: this process must not touch anything any more. */
  let halted = false;
  let running: AbortController | undefined;
  /** Offers called but not yet handled: a cancellable job yields to them between steps. */
  let waitingOffers = 0;
  let queue: Promise<unknown> = Promise.resolve();

  function serial(action: (ctx: ClientContext) => Promise<void>): Promise<void> {
    const run = queue.then(async () => {
      if (halted) return;
      await action(await context());
    });
    queue = run.catch(() => {});
    return run;
  }

  async function context(): Promise<ClientContext> {
    if (ctx) return ctx;
    const path = statePaths(options.stateDir).state;
    let state = await loadState(deps.disk, path);
    if (!state) {
      state = await initialState();
      await saveState(deps.disk, path, state);
    }
    ctx = createContext(deps, options, get, state);
    return ctx;
  }

  async function initialState(): Promise<ClientState> {
    const state: ClientState = { seq: 0, slots: {} };
    const { length, version } = options.installed;
    if (length === undefined) return state;
    const { booted } = await deps.bootControl.state();
    const sha256 = await sha256Of(deps.disk, options.slots.paths[booted], length);
    state.slots[booted] = { version, sha256, length };
    return state;
  }

  /** Runs steps until the job ends, waits for install(), or the device reboots. */
  async function drive(c: ClientContext): Promise<void> {
    for (;;) {
      if (halted) return;
      const job = c.state.job;
      if (!job) {
        if (!c.state.queued) return;
        const queued = c.state.queued;
        await startJob(c, queued, (s) => delete s.queued);
        continue;
      }
      if (waitingOffers > 0 && CANCELLABLE.includes(job.phase)) return; // the newer offer decides
      const controller = new AbortController();
      running = controller;
      try {
        if (await step(c, job, controller.signal)) return;
      } catch (err) {
        if (controller.signal.aborted) return; // cancelled by a newer offer, which takes over
        // The phase the step reached: once `rebooting` is journaled the slot is final, and an
        // error (bootloader tool failed) leaves the job for the next resumeAfterBoot().
        const phase = c.state.job?.phase ?? job.phase;
        if (!isRefusable(phase)) throw err;
        const reason = refusalReason(err, phase);
        await failJob(c, c.state.job ?? job, reason.reason, reason.detail);
      } finally {
        running = undefined;
      }
    }
  }

  /** One step; true when driving must stop (waiting for install, or rebooting). */
  async function step(c: ClientContext, job: Job, signal: AbortSignal): Promise<boolean> {
    switch (job.phase) {
      case 'accepted':
        await planStep(c, signal);
        return false;
      case 'downloading':
        await fetchStep(c, signal);
        return false;
      case 'downloaded':
        if (!(await installGate(c, job))) return true;
        await installStep(c);
        halted = true;
        return true;
      case 'installing':
        await installStep(c);
        halted = true;
        return true;
      case 'rebooting':
      case 'verifying':
      case 'reverting':
        if ((await afterBootStep(c)) === 'halt') halted = true;
        return halted;
    }
  }

  async function startJob(c: ClientContext, offer: UpdateOffer, also: (s: ClientState) => void = () => {}) {
    const job: Job = { offer, phase: 'accepted', partBytes: 0, installRequested: offer.installNow };
    await c.commit((s) => {
      also(s);
      s.job = job;
    });
    await c.checkpoint('accepted');
  }

  async function handleOffer(c: ClientContext, offer: UpdateOffer | null): Promise<void> {
    const job = c.state.job;
    if (job && offer && job.offer.deploymentId === offer.deploymentId) {
      await c.commit((s) => {
        if (!s.job) return;
        s.job.offer = offer;
        if (offer.installNow) s.job.installRequested = true;
      });
      return;
    }
    if (job && !CANCELLABLE.includes(job.phase)) {
      // Past the point of no return: finish first, then take up the newest offer.
      await c.commit((s) => {
        if (offer) s.queued = offer;
        else delete s.queued;
      });
      return;
    }
    if (job)
      await failJob(c, job, 'cancelled', offer ? `superseded by ${offer.deploymentId}` : 'offer withdrawn');
    if (!offer) return;
    if (c.state.lastFinal?.status.deploymentId === offer.deploymentId) {
      await resendFinal(c);
      return;
    }
    await startJob(c, offer);
  }

  return {
    offer(raw) {
      const parsed = updateOfferSchema.nullable().safeParse(raw);
      if (!parsed.success)
        return Promise.reject(new ValidationError('invalid update offer', { issues: parsed.error.issues }));
      const offer = parsed.data;
      const job = ctx?.state.job;
      // Stop a running download at once so the switch does not wait for it.
      if (job && job.offer.deploymentId !== offer?.deploymentId && CANCELLABLE.includes(job.phase))
        running?.abort();
      waitingOffers++;
      let counted = true;
      const uncount = () => {
        if (counted) waitingOffers--;
        counted = false;
      };
      return serial(async (c) => {
        uncount();
        await handleOffer(c, offer);
        await drive(c);
      }).finally(uncount);
    },
    install() {
      return serial(async (c) => {
        if (c.state.job?.phase !== 'downloaded') return;
        await c.commit((s) => {
          if (s.job) s.job.installRequested = true;
        });
        await drive(c);
      });
    },
    resume() {
      return serial(async (c) => {
        if (c.state.job?.phase === 'downloaded') await drive(c);
      });
    },
    resumeAfterBoot() {
      return serial(async (c) => {
        await sendFinal(c);
        await drive(c);
      });
    },
    async bootedVersion() {
      const c = await context();
      const { booted } = await deps.bootControl.state();
      return c.state.slots[booted]?.version ?? options.installed.version;
    },
    current() {
      const job = ctx?.state.job;
      return job ? { deploymentId: job.offer.deploymentId, phase: job.phase } : undefined;
    },
  };
}

/** Up to and including writing the slot, any error fails the job; after that the boot state decides. */
function isRefusable(phase: JobPhase): boolean {
  return CANCELLABLE.includes(phase) || phase === 'installing';
}

function refusalReason(
  err: unknown,
  phase: JobPhase,
): { reason: UpdateRefusedError['reason']; detail: string } {
  if (err instanceof UpdateRefusedError) return { reason: err.reason, detail: err.message };
  const detail = err instanceof Error ? err.message : String(err);
  if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return { reason: 'no_space', detail };
  return { reason: phase === 'installing' ? 'install_failed' : 'internal', detail };
}
