/**
 * The job runner's seams: what the device can do (DeviceActions, injected so the runner stays
 * pure of I/O) and how its reports leave the device (JobLink). The Linux daemon and the simulator
 * each provide their own actions; tests provide fakes.
 */
import type { JobCapabilities, JobRun, JobStatus } from '../../contracts/job-messages.ts';
import type { AgentLogger } from '../types.ts';
import type { Clock } from '../../infra/clock.ts';
import type { ExecutionBook } from './execution-book.ts';

/** What an operation produced: `failed` carries a machine-readable code. */
export type ActionOutcome =
  | { ok: true; result?: Record<string, unknown>; message?: string }
  | { ok: false; code: string; message: string; result?: Record<string, unknown> };

/** Raised by an action that the device cannot do at all (e.g. no reboot command configured). */
export class ActionRejectedError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ActionRejectedError';
    this.code = code;
  }
}

/** One registered custom command, as advertised in `capabilities`. */
export interface CommandInfo {
  name: string;
  description?: string;
}

export interface RunContext {
  run: JobRun;
  /** ms the in-progress report took to be acknowledged by the broker (a broker round trip). */
  roundTripMs: number | undefined;
}

/** The device's operations. Each returns its outcome; ActionRejectedError means "will not run". */
export interface DeviceActions {
  /** Operations offered in `capabilities` (the runner rejects others with `unsupported_command`). */
  operations(): JobCapabilities['operations'];
  commands(): readonly CommandInfo[];
  /**
   * Starts a reboot. The runner has already recorded "reboot requested"; it reports success on the
   * next start (JobRunner.start), after the device came back.
   */
  reboot(): Promise<void>;
  factoryReset(options: { wipeIdentity: boolean }): Promise<ActionOutcome>;
  recovery(params: Record<string, unknown>): Promise<ActionOutcome>;
  /** Collects, compresses and uploads the log bundle of `executionId`. */
  logs(executionId: string, options: { maxLines?: number }): Promise<ActionOutcome>;
  selfTest(context: RunContext): Promise<ActionOutcome>;
  sensors(names: readonly string[] | undefined): Promise<ActionOutcome>;
  command(name: string, params: Record<string, unknown>): Promise<ActionOutcome>;
}

/** How reports leave the device: the agent's `jobs/status` publish and its connection state. */
export interface JobLink {
  /** QoS 1; resolves on PUBACK, rejects when not connected. */
  publish(status: JobStatus): Promise<void>;
  isConnected(): boolean;
}

export interface JobRunnerDeps {
  clock: Clock;
  logger: AgentLogger;
  actions: DeviceActions;
  /** Where started executions are remembered across restarts. */
  book: ExecutionBook;
}
