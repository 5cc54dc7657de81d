/** A fake link (records what the runner sends) and fake device actions for the runner tests. */
import type { JobRun, JobStatus, JobProgress } from '../../src/contracts/job-messages.ts';
import { jobOperations } from '../../src/contracts/job-messages.ts';
import type { AgentLogger } from '../../src/agent/types.ts';
import type { ActionOutcome, DeviceActions, JobLink } from '../../src/agent/jobs/types.ts';

const noop = () => undefined;
export const quietLogger: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };

export interface FakeLink extends JobLink {
  sent: JobStatus[];
  connected: boolean;
  progress(executionId: string): JobProgress[];
}

export function fakeLink(): FakeLink {
  const link: FakeLink = {
    sent: [],
    connected: true,
    publish(status) {
      if (!link.connected) return Promise.reject(new Error('not connected'));
      link.sent.push(status);
      return Promise.resolve();
    },
    isConnected: () => link.connected,
    progress: (executionId) =>
      link.sent.filter((s): s is JobProgress => s.kind === 'progress' && s.executionId === executionId),
  };
  return link;
}

export interface FakeActions extends DeviceActions {
  calls: string[];
  /** Resolves the action of the running execution when set (to hold an execution open). */
  gate: Promise<void> | undefined;
}

export function fakeActions(outcome: ActionOutcome = { ok: true, result: { done: true } }): FakeActions {
  const actions: FakeActions = {
    calls: [],
    gate: undefined,
    operations: () => [...jobOperations],
    commands: () => [{ name: 'echo', description: 'says hello' }],
    async reboot() {
      actions.calls.push('reboot');
      await actions.gate;
    },
    async factoryReset({ wipeIdentity }) {
      actions.calls.push(`factory-reset:${wipeIdentity}`);
      await actions.gate;
      return outcome;
    },
    recovery() {
      actions.calls.push('recovery');
      return Promise.resolve(outcome);
    },
    logs(executionId) {
      actions.calls.push(`logs:${executionId}`);
      return Promise.resolve(outcome);
    },
    async selfTest({ roundTripMs }) {
      actions.calls.push(`self-test:${roundTripMs !== undefined}`);
      await actions.gate;
      return outcome;
    },
    sensors(names) {
      actions.calls.push(`sensors:${names?.join(',') ?? '*'}`);
      return Promise.resolve(outcome);
    },
    command(name, params) {
      actions.calls.push(`command:${name}:${JSON.stringify(params)}`);
      return Promise.resolve(outcome);
    },
  };
  return actions;
}

let nextId = 1;
export function run(operation: JobRun['operation'], extra: Partial<JobRun> = {}): JobRun {
  return {
    kind: 'run',
    executionId: `ex-${nextId++}`,
    jobId: 'job-1',
    attempt: 1,
    operation,
    params: {},
    deadlineMs: Date.now() + 60_000,
    ...extra,
  };
}
