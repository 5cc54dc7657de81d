// End to end: a staged rollout survives SIGKILLs of the server (a child process) in every stage,
// and a rate-limited rollout running meanwhile never starts more devices in a sliding minute than
// its limit. Real agents and update clients over real TLS (the simulator) run in this process and
// reconnect to the restarted server on their own. Assertions are on counts and on the order of
// recorded times only.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { AgentLogger } from '../../src/agent/types.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { planCohorts } from '../../src/ota/rollouts/cohorts.ts';
import { RATE_WINDOW_MS } from '../../src/ota/rollouts/rate-limit.ts';
import { simulatedFleet, type SimulatedDevice } from '../../src/sim/attributes.ts';
import { simulatedImage } from '../../src/sim/sim-firmware.ts';
import { startSimulation, type SimulationHandle } from '../../src/sim/simulator.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { waitFor } from '../helpers/wait.ts';

const DEVICES = 80; // with this seed: 34 tracker-2 (crashed rollout), 36 sensor-mini (rate limit)
const SEED = 4;
const HOLD_S = 2;
const STAGES = [
  { percent: 10, holdS: HOLD_S },
  { percent: 50, holdS: HOLD_S },
  { percent: 100, holdS: HOLD_S },
];
const MAX_STARTS_PER_MINUTE = 15;
const noop = () => undefined;
const silent: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
const deps = { clock: { now: () => Date.now() }, timers: systemTimers, random: Math.random, logger: silent };

interface RolloutState {
  status: string;
  stageIndex: number;
  stageStartedAtMs: number;
  holdStartedAtMs: number | null;
}
interface TimelineEvent {
  atMs: number;
  kind: string;
  stageIndex: number;
}
interface View {
  rollout: { state: RolloutState & { pauseReason: unknown } };
  stages: Array<{ devices: number; summary: { notStarted: number; byState: Record<string, number> } }>;
  devices: Record<string, number>;
  timeline: TimelineEvent[];
}
interface HistoryEntry {
  deploymentId: string;
  at: string;
  state: string;
  reason: string | null;
  detail: string | null;
}

const persisted = (s: RolloutState): RolloutState => ({
  status: s.status,
  stageIndex: s.stageIndex,
  stageStartedAtMs: s.stageStartedAtMs,
  holdStartedAtMs: s.holdStartedAtMs,
});
const sameState = (a: RolloutState, b: RolloutState): boolean =>
  JSON.stringify(persisted(a)) === JSON.stringify(persisted(b));

/**
 * The states a good rollout (every stage held, no operator) goes through by `events`, each of
 * which must be the one legal successor of the state before it: created, then per stage
 * hold-started and stage-started (completed after the last). A duplicated, missing or foreign
 * event (a gate pause) fails here.
 */
function replayTimeline(events: readonly TimelineEvent[]): RolloutState[] {
  const [created, ...rest] = events;
  assert.equal(created?.kind, 'created', JSON.stringify(events));
  let state: RolloutState = {
    status: 'running',
    stageIndex: 0,
    stageStartedAtMs: created.atMs,
    holdStartedAtMs: null,
  };
  const states = [state];
  for (const event of rest) {
    const expected =
      state.status !== 'running'
        ? 'nothing'
        : state.holdStartedAtMs === null
          ? 'hold-started'
          : state.stageIndex + 1 < STAGES.length
            ? 'stage-started'
            : 'completed';
    assert.equal(event.kind, expected, `after ${JSON.stringify(state)}: ${JSON.stringify(events)}`);
    const stageIndex = event.kind === 'stage-started' ? state.stageIndex + 1 : state.stageIndex;
    assert.equal(event.stageIndex, stageIndex, JSON.stringify(events));
    if (event.kind === 'hold-started') state = { ...state, holdStartedAtMs: event.atMs };
    else if (event.kind === 'stage-started')
      state = { status: 'running', stageIndex, stageStartedAtMs: event.atMs, holdStartedAtMs: null };
    else state = { ...state, status: 'completed' };
    states.push(state);
  }
  return states;
}

describe('rollouts across server crashes', { timeout: 900_000, concurrency: true }, () => {
  let server: ServerProcess;
  let sim: SimulationHandle | undefined;
  const fleet = simulatedFleet(DEVICES, SEED);
  const trackers = fleet.filter((d) => d.hardware.model === 'tracker-2');
  const sensors = fleet.filter((d) => d.hardware.model === 'sensor-mini');
  /** Created in before() so that it runs through every crash of the first test. */
  let rateLimitedId = '';

  /** A GET answered 200; retried while the server is down (the other test may have killed it). */
  async function get<T>(path: string): Promise<T> {
    let body: T | undefined;
    await waitFor(
      async () => {
        const res = await server.api<T>(path).catch(() => undefined);
        if (res === undefined) return false;
        assert.equal(res.status, 200, `GET ${path}: ${JSON.stringify(res.body)}`);
        body = res.body;
        return true;
      },
      { timeoutMs: 180_000, intervalMs: 100, what: `GET ${path}` },
    );
    return body as T;
  }

  async function createRollout(spec: Record<string, unknown>): Promise<{ id: string; stageSizes: number[] }> {
    const created = await server.request('POST', '/api/v1/rollouts', spec);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return {
      id: (created.body['rollout'] as { id: string }).id,
      stageSizes: created.body['stageSizes'] as number[],
    };
  }

  /** Update histories per device, read through the API. */
  async function histories(devices: readonly SimulatedDevice[]): Promise<Map<string, HistoryEntry[]>> {
    const result = new Map<string, HistoryEntry[]>();
    for (const { deviceId } of devices)
      result.set(
        deviceId,
        (await get<{ items: HistoryEntry[] }>(`/api/v1/devices/${deviceId}/updates`)).items,
      );
    return result;
  }

  /** Polls the view until `done` holds; a pause (a gate failed) ends the wait with the failures behind it. */
  async function waitForView(
    id: string,
    devices: readonly SimulatedDevice[],
    done: (view: View) => boolean,
    what: string,
  ): Promise<View> {
    let view: View | undefined;
    await waitFor(
      async () => {
        view = await get<View>(`/api/v1/rollouts/${id}`);
        if (view.rollout.state.status === 'paused') assert.fail(`paused: ${await whyPaused(view, devices)}`);
        return done(view);
      },
      { timeoutMs: 300_000, intervalMs: 25, what },
    );
    return view as View;
  }

  async function whyPaused(view: View, devices: readonly SimulatedDevice[]): Promise<string> {
    const failures = [...(await histories(devices))].flatMap(([deviceId, entries]) =>
      entries
        .filter((e) => e.state === 'failed' || e.state === 'rolled-back')
        .map((e) => ({ deviceId, ...e })),
    );
    return JSON.stringify({ reason: view.rollout.state.pauseReason, failures });
  }

  /**
   * Reads the trackers' histories, then the rollout: fails if a device was offered anything
   * before its stage started (or at all, if its stage had not started when the rollout was read),
   * or by more than one deployment.
   */
  async function assertOnlyStartedStagesTouched(id: string, stageOf: Map<string, number>): Promise<View> {
    const history = await histories(trackers);
    const view = await get<View>(`/api/v1/rollouts/${id}`);
    const stageStartMs = new Map<number, number>([[0, view.timeline[0]?.atMs ?? 0]]);
    for (const event of view.timeline)
      if (event.kind === 'stage-started') stageStartMs.set(event.stageIndex, event.atMs);
    for (const [deviceId, entries] of history) {
      const stage = stageOf.get(deviceId);
      const deployments = new Set(entries.map((e) => e.deploymentId));
      assert.ok(deployments.size <= 1, `${deviceId} got ${[...deployments].join(', ')}`);
      const startedMs = stage === undefined ? undefined : stageStartMs.get(stage);
      if (startedMs === undefined) assert.deepEqual(entries, [], `${deviceId} (stage ${stage}) was offered`);
      for (const entry of entries)
        assert.ok(
          Date.parse(entry.at) >= (startedMs ?? 0),
          `${deviceId} offered before stage ${stage} started`,
        );
    }
    return view;
  }

  /** SIGKILL, restart, and check the rollout went on from what was persisted before the kill. */
  async function crashAndCheck(id: string, stageOf: Map<string, number>, t: TestContext, when: string) {
    const before = await get<View>(`/api/v1/rollouts/${id}`);
    await server.kill();
    const killedAtMs = Date.now();
    await server.start();
    const restartMs = Date.now() - killedAtMs;
    const after = await assertOnlyStartedStagesTouched(id, stageOf);
    if (after.rollout.state.status === 'paused') assert.fail(`paused: ${await whyPaused(after, trackers)}`);
    assert.deepEqual(
      after.timeline.slice(0, before.timeline.length),
      before.timeline,
      'the timeline kept all',
    );
    // Whatever was persisted before the kill stays; the stored state is the one its timeline
    // leads to (read just before the timeline, it may be a step behind it, never before the kill).
    const states = replayTimeline(after.timeline);
    const beforeAt = before.timeline.length - 1;
    const storedAt = states.findIndex((s, i) => i >= beforeAt && sameState(s, after.rollout.state));
    assert.ok(
      storedAt >= 0,
      `stored ${JSON.stringify(after.rollout.state)}, timeline ${JSON.stringify(states)}`,
    );
    const stage = before.stages[before.rollout.state.stageIndex]?.summary.byState;
    t.diagnostic(
      `${when}: killed in ${JSON.stringify(persisted(before.rollout.state))} with ${JSON.stringify(stage)}; ` +
        `up again after ${restartMs} ms; ${states.length - 1 - beforeAt} timeline event(s) since`,
    );
  }

  before(async () => {
    assert.ok(
      trackers.length >= 30 && sensors.length > 2 * MAX_STARTS_PER_MINUTE,
      'the seed must give the fleet',
    );
    server = await startServerProcess({ rollouts: { tickIntervalS: 0.2 } });
    for (const version of new Set(trackers.map((d) => d.firmwareVersion)))
      await server.publishRelease('tracker-2', version, simulatedImage('tracker-2', version));
    await server.publishRelease('tracker-2', '3.0.0', simulatedImage('tracker-2', '3.0.0'));
    await server.publishRelease('sensor-mini', '4.0.0', simulatedImage('sensor-mini', '4.0.0'));
    sim = await startSimulation(deps, {
      devices: DEVICES,
      seed: SEED,
      serverUrl: server.mqttUrl,
      dataDir: server.dataDir,
      backoff: { initialMs: 100, maxMs: 500 },
      updates: {
        deviceHttpUrl: server.deviceHttpUrl,
        push: true,
        pollIntervalS: 3600,
        healthRetryDelayMs: 50,
        // A trial boot must reach the server, a download outlast its restart: on a busy machine a
        // restart takes tens of seconds (the update client's default retries span 20 s).
        connectWithinMs: 180_000,
        download: { attempts: 90, retryDelayMs: 2000 },
      },
    });
    await sim.ramped;
    await waitFor(
      async () =>
        sim?.connectedCount() === DEVICES &&
        (await server.api<{ total: number }>('/api/v1/fleet/summary')).body.total === DEVICES,
      { timeoutMs: 180_000, what: 'every simulated device to connect and register' },
    );
    const { id } = await createRollout({
      release: { model: 'sensor-mini', version: '4.0.0' },
      stages: [{ percent: 100, holdS: 0 }],
      maxStartsPerMinute: MAX_STARTS_PER_MINUTE,
    });
    rateLimitedId = id;
  });

  after(async () => {
    await sim?.stop();
    await server?.close();
  });

  it('resumes every stage exactly where it was after a SIGKILL while updating and while holding', async (t) => {
    const { id, stageSizes } = await createRollout({
      release: { model: 'tracker-2', version: '3.0.0' },
      stages: STAGES,
    });
    const ids = trackers.map((d) => d.deviceId);
    const plan = planCohorts(
      id,
      ids,
      STAGES.map((stage) => ({ ...stage, manualApproval: false })),
    );
    assert.deepEqual(
      stageSizes,
      plan.stages.map((stage) => stage.length),
    );

    for (let stage = 0; stage < STAGES.length; stage++) {
      const inStage = (v: View) =>
        v.rollout.state.stageIndex === stage && v.rollout.state.status === 'running';
      const ofStage = (v: View) => v.stages[stage] ?? { devices: 0, summary: { notStarted: 0 } };
      // Updating: devices of the stage are started, and the gates have not all passed yet.
      await waitForView(
        id,
        trackers,
        (v) =>
          inStage(v) &&
          v.rollout.state.holdStartedAtMs === null &&
          ofStage(v).summary.notStarted < ofStage(v).devices,
        `stage ${stage} updating`,
      );
      await crashAndCheck(id, plan.stageOf, t, `stage ${stage} updating`);
      // Holding: every gate passed; the hold may run out while the server is down.
      await waitForView(
        id,
        trackers,
        (v) => v.rollout.state.stageIndex > stage || (inStage(v) && v.rollout.state.holdStartedAtMs !== null),
        `stage ${stage} holding`,
      );
      await crashAndCheck(id, plan.stageOf, t, `stage ${stage} holding`);
    }

    const done = await waitForView(id, trackers, (v) => v.rollout.state.status === 'completed', 'completion');
    assert.deepEqual(done.devices, { success: trackers.length });
    replayTimeline(done.timeline);
    await assertOnlyStartedStagesTouched(id, plan.stageOf);
  });

  it('starts no more devices in any sliding minute than maxStartsPerMinute, across the crashes', async () => {
    const started = (v: View) => sensors.length - (v.stages[0]?.summary.notStarted ?? 0);
    // The first minute's starts, then more only once they have left the window.
    await waitForView(rateLimitedId, sensors, (v) => started(v) > MAX_STARTS_PER_MINUTE, 'a second minute');

    const deployments = await get<{ items: Array<{ id: string; source: string }> }>(
      '/api/v1/firmware/deployments?limit=1000',
    );
    const offeredMs: number[] = [];
    for (const deployment of deployments.items.filter((d) => d.source === `rollout:${rateLimitedId}`)) {
      const summary = await get<{ devices: { items: Array<{ offeredAt: string }> } }>(
        `/api/v1/firmware/deployments/${deployment.id}?limit=1000`,
      );
      offeredMs.push(...summary.devices.items.map((d) => Date.parse(d.offeredAt)));
    }
    offeredMs.sort((a, b) => a - b);
    assert.ok(offeredMs.length > MAX_STARTS_PER_MINUTE, `${offeredMs.length} devices started`);
    const inMinuteBefore = (atMs: number) =>
      offeredMs.filter((t) => t > atMs - RATE_WINDOW_MS && t <= atMs).length;
    for (const atMs of offeredMs)
      assert.ok(
        inMinuteBefore(atMs) <= MAX_STARTS_PER_MINUTE,
        `${inMinuteBefore(atMs)} starts in the minute up to ${new Date(atMs).toISOString()}`,
      );
    // The limit did bind: the first minute was full.
    const first = offeredMs[0] ?? 0;
    assert.equal(offeredMs.filter((t) => t < first + RATE_WINDOW_MS).length, MAX_STARTS_PER_MINUTE);
  });
});
