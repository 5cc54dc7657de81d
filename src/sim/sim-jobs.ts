/**
 * Remote jobs on simulated devices: the agent's own job runner with virtual device actions.
 * Reboot disconnects, waits and reconnects (the runner reports success once back, like a real
 * device); factory reset clears the simulated config and recovery flag; recovery sets that flag;
 * sensors read the simulated telemetry source; logs upload the device's recent log lines over
 * HTTPS with its certificate; two custom commands (`echo`, `blink-led`). A fault knob makes a share
 * of the fleet fail its self-test (abort-threshold tests and demos).
 */
import { jobOperations, MAX_LOG_BUNDLE_BYTES } from '../contracts/job-messages.ts';
import { healthMetrics } from '../contracts/telemetry-messages.ts';
import { createExecutionBook, memoryBookStorage } from '../agent/jobs/execution-book.ts';
import { buildLogBundle } from '../agent/jobs/log-bundle.ts';
import { createLogRing, recordingLogger } from '../agent/jobs/log-ring.ts';
import { httpsLogUploader } from '../agent/jobs/log-upload.ts';
import { createJobRunner, type JobRunner } from '../agent/jobs/runner.ts';
import {
  brokerRoundTripCheck,
  certificateCheck,
  clockSaneCheck,
  runSelfTest,
  type SelfTestCheck,
} from '../agent/jobs/self-test.ts';
import { ActionRejectedError, type DeviceActions } from '../agent/jobs/types.ts';
import type { Agent, AgentDeps, AgentOptions } from '../agent/types.ts';
import { mix32 } from './attributes.ts';
import { hashString } from './device-telemetry.ts';
import { simTelemetrySource } from './sim-telemetry.ts';

export interface SimJobsOptions {
  /** How long a simulated reboot keeps the device off, in ms; default 1000. */
  rebootDelayMs?: number;
  /** Share of devices (0–1, chosen by device id) whose self-test fails; default 0. */
  selfTestFailShare?: number;
  /** Device API for log uploads (`https://host:port`); without it `logs` is rejected `not_configured`. */
  deviceHttpUrl?: string;
  /** Recent log lines a device keeps for `logs`; default 200. */
  logRingLines?: number;
}

/** The simulated custom commands every device registers. */
export const SIM_COMMANDS = [
  { name: 'echo', description: 'answers with the params it was given' },
  { name: 'blink-led', description: 'blinks the status LED params.times times (default 3)' },
] as const;

/** True when the fault knob makes `deviceId` fail its self-test. Pure. */
export function failsSelfTest(deviceId: string, share: number): boolean {
  // FNV-1a alone clusters for ids that differ in the last digit; mix32 spreads them.
  return mix32(hashString(deviceId)) / 2 ** 32 < share;
}

export interface SimJobs {
  runner: JobRunner;
  /** The deps whose logger records the device's recent lines (for `logs`). */
  deps: AgentDeps;
  agentOptions(options: AgentOptions): AgentOptions;
  /** The device's agent handle: reboots stop and start it. */
  bind(agent: Agent): void;
  /** Simulated state a factory reset clears and recovery sets (tests inspect it). */
  state(): { config: Record<string, unknown>; recovery: boolean; factoryResets: number; boots: number };
}

export function createSimJobs(
  deps: AgentDeps,
  options: SimJobsOptions,
  device: { deviceId: string; tls: AgentOptions['tls'] },
): SimJobs {
  const ring = createLogRing(options.logRingLines ?? 200);
  const recording: AgentDeps = {
    ...deps,
    logger: recordingLogger(deps.logger, ring, () => deps.clock.now()),
  };
  const sensors = simTelemetrySource({ seed: hashString(device.deviceId), bootMs: deps.clock.now() });
  const upload = options.deviceHttpUrl
    ? httpsLogUploader({ deviceHttpUrl: options.deviceHttpUrl, tls: device.tls })
    : undefined;
  const sim = {
    config: { sampleS: 60 } as Record<string, unknown>,
    recovery: false,
    factoryResets: 0,
    boots: 1,
  };
  let agent: Agent | undefined;

  async function powerCycle(): Promise<void> {
    if (!agent) return;
    await agent.stop();
    await new Promise<void>((resolve) => deps.timers.setTimeout(resolve, options.rebootDelayMs ?? 1000));
    sim.boots += 1;
    recording.logger.info({ deviceId: device.deviceId, bootReason: 'remote_reboot' }, 'booted');
    try {
      await runner.start();
    } finally {
      // Whatever the runner says, the device powers on again.
      agent.start();
    }
  }

  const actions: DeviceActions = {
    operations: () => [...jobOperations],
    commands: () => SIM_COMMANDS,
    reboot() {
      // Not awaited: the runner only asks; the device goes down and comes back by itself.
      void powerCycle().catch((err: unknown) =>
        deps.logger.error(
          { deviceId: device.deviceId, err: (err as Error).message },
          'simulated reboot failed',
        ),
      );
      return Promise.resolve();
    },
    factoryReset({ wipeIdentity }) {
      sim.config = {};
      sim.recovery = false;
      sim.factoryResets += 1;
      // A simulated device keeps its certificate either way (it would not get back otherwise).
      return Promise.resolve({
        ok: true,
        result: { removed: ['config', 'data', 'recovery'], identityKept: !wipeIdentity, simulated: true },
      });
    },
    recovery() {
      sim.recovery = true;
      return Promise.resolve({ ok: true, result: { recovery: true, simulated: true } });
    },
    async logs(executionId, { maxLines }) {
      if (!upload) throw new ActionRejectedError('not_configured', 'no device API URL to upload logs to');
      const lines = ring.lines();
      const bundle = await buildLogBundle(
        maxLines !== undefined ? lines.slice(-maxLines) : lines,
        MAX_LOG_BUNDLE_BYTES,
      );
      await upload(executionId, bundle.gzip);
      return {
        ok: true,
        result: { bytes: bundle.gzip.length, lines: bundle.lines, droppedLines: bundle.droppedLines },
      };
    },
    selfTest({ roundTripMs }) {
      const failing = failsSelfTest(device.deviceId, options.selfTestFailShare ?? 0);
      const sensorBus: SelfTestCheck = () =>
        Promise.resolve({
          name: 'sensor-bus',
          passed: !failing,
          detail: failing ? 'simulated fault: no answer from the sensor bus' : 'all sensors answer',
        });
      return runSelfTest([
        clockSaneCheck(() => deps.clock.now()),
        certificateCheck(
          () => device.tls.certPem,
          () => deps.clock.now(),
        ),
        brokerRoundTripCheck(roundTripMs),
        sensorBus,
      ]);
    },
    sensors(names) {
      const now = deps.clock.now();
      const values = sensors.read(names ?? Object.keys(healthMetrics).filter((n) => n !== 'errors'), now);
      return Promise.resolve({ ok: true, result: { atMs: now, values } });
    },
    command(name, params) {
      if (name === 'echo') return Promise.resolve({ ok: true, result: { echo: params } });
      if (name === 'blink-led') {
        const times = typeof params['times'] === 'number' ? params['times'] : 3;
        return Promise.resolve({ ok: true, result: { blinked: times } });
      }
      throw new ActionRejectedError('unsupported_command', `no command named ${name}`);
    },
  };

  const runner: JobRunner = createJobRunner({
    clock: deps.clock,
    logger: recording.logger,
    actions,
    book: createExecutionBook(memoryBookStorage()),
  });
  void runner.start();

  return {
    runner,
    deps: recording,
    agentOptions: (agentOptions) => ({
      ...agentOptions,
      jobs: {
        onNotify: (n) => runner.onNotify(n),
        onConnected: () => runner.onConnected(),
        onInvalidNotify: (json, reason) => runner.onInvalidNotify(json, reason),
      },
    }),
    bind(a) {
      agent = a;
      // A rebooting device's agent refuses publishes between two boots: the runner keeps those
      // reports and sends them after the next connect.
      runner.attach({ publish: (s) => a.publishJobStatus(s), isConnected: () => a.isConnected() });
    },
    state: () => structuredClone(sim),
  };
}
