/**
 * What every step of the update flow shares: dependencies, resolved options, file paths and the
 * in-memory mirror of the journal, with the one way to change it: `commit` writes the new state
 * durably, then sends the status it implies (so a report is never ahead of the journal).
 */
import { join } from 'node:path';
import type { UpdateStatus } from '../../contracts/update-messages.ts';
import { ConflictError } from '../../infra/errors.ts';
import { nextSeq } from '../state.ts';
import { saveState, type ClientState, type Job } from './journal.ts';
import type { Checkpoint, UpdateClientDeps, UpdateClientOptions } from './types.ts';
import type { HttpGet } from './transport.ts';

export type StatusBody = Omit<UpdateStatus, 'seq' | 'deploymentId' | 'version'>;

export interface ClientContext {
  deps: UpdateClientDeps;
  options: UpdateClientOptions;
  get: HttpGet;
  paths: { state: string; part: string; staged: string; base: string; rootBackup: string };
  state: ClientState;
  /** Applies `mutate`, persists, then reports `status` for `job` (if given). */
  commit(mutate: (state: ClientState) => void, report?: { job: Job; status: StatusBody }): Promise<void>;
  checkpoint(name: Checkpoint): Promise<void>;
  sleep(ms: number): Promise<void>;
}

export function statePaths(stateDir: string): ClientContext['paths'] {
  return {
    state: join(stateDir, 'update-state.json'),
    part: join(stateDir, 'update.part'),
    staged: join(stateDir, 'update.staged'),
    base: join(stateDir, 'update.base'),
    rootBackup: join(stateDir, 'tuf-root.json'),
  };
}

/** The status report for `job`: the version is the signed one once known. */
export function buildStatus(job: Job, seq: number, body: StatusBody): UpdateStatus {
  return {
    deploymentId: job.offer.deploymentId,
    version: job.image?.version ?? job.offer.version,
    seq,
    ...body,
  };
}

export function createContext(
  deps: UpdateClientDeps,
  options: UpdateClientOptions,
  get: HttpGet,
  state: ClientState,
): ClientContext {
  const ctx: ClientContext = {
    deps,
    options,
    get,
    paths: statePaths(options.stateDir),
    state,
    async commit(mutate, report) {
      const next = structuredClone(ctx.state);
      mutate(next);
      let status: UpdateStatus | undefined;
      if (report) {
        next.seq = nextSeq(next.seq, deps.clock.now());
        status = buildStatus(report.job, next.seq, report.status);
      }
      await saveState(deps.disk, ctx.paths.state, next);
      ctx.state = next;
      if (status) await reportSafely(deps, status);
    },
    async checkpoint(name) {
      await deps.checkpoint?.(name);
    },
    sleep: (ms) => new Promise((resolve) => deps.timers.setTimeout(resolve, ms)),
  };
  return ctx;
}

/**
 * Sends a report; a failure (no connection) is logged, not fatal: progress reports are
 * best-effort and final ones are re-sent from the journal (finish.ts). True when sent.
 */
export async function reportSafely(deps: UpdateClientDeps, status: UpdateStatus): Promise<boolean> {
  try {
    await deps.report(status);
    return true;
  } catch (err) {
    deps.logger.warn({ state: status.state, err: (err as Error).message }, 'update status not sent');
    return false;
  }
}

/** The job, which a step requires to exist. */
export function jobOf(ctx: ClientContext): Job {
  const { job } = ctx.state;
  if (!job) throw new ConflictError('no update in progress');
  return job;
}
