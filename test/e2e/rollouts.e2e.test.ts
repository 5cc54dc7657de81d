// End to end: a staged rollout driven by the real server's orchestrator over a simulated fleet
// (real agents and update clients, real TLS). Ticks every 50 ms and holds of 1 s stand in for the
// defaults, so the stages pass in seconds. Maintenance windows: a closed one keeps its devices at
// `downloaded` while an open one lets the rest succeed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { AgentLogger } from '../../src/agent/types.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { simulatedFleet } from '../../src/sim/attributes.ts';
import { simulatedImage } from '../../src/sim/sim-firmware.ts';
import { startSimulation, type SimulationHandle } from '../../src/sim/simulator.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

const DEVICES = 24;
const SEED = 4;
const MODEL = 'tracker-2';
const noop = () => undefined;
const silent: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
const deps = { clock: { now: () => Date.now() }, timers: systemTimers, random: Math.random, logger: silent };
const BIN = fileURLToPath(new URL('../../bin/flotilla.js', import.meta.url));

/** Runs the CLI; resolves with its exit code and output. */
function flotilla(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], (error, stdout, stderr) =>
      resolve({ code: typeof error?.code === 'number' ? error.code : error ? 1 : 0, stdout, stderr }),
    );
  });
}

type Json = Record<string, unknown>;
interface View {
  rollout: { state: { status: string; stageIndex: number; pauseReason: Json | null } };
  stages: Array<{ devices: number; summary: { byState: Record<string, number> } }>;
  devices: Record<string, number>;
}

describe('a staged rollout over a simulated fleet', { timeout: 240_000 }, () => {
  let fx: ServerFixture;
  let sim: SimulationHandle | undefined;
  const trackers = simulatedFleet(DEVICES, SEED).filter((d) => d.hardware.model === MODEL);
  let pausedId = '';
  const stages = [
    { percent: 20, holdS: 1 },
    { percent: 100, holdS: 0 },
  ];

  const api = async (method: string, path: string, body?: unknown) => fx.request(method, path, body);

  const publish = (version: string, image: Buffer) => fx.publishRelease(MODEL, version, image);

  async function createRollout(version: string): Promise<string> {
    const created = await api('POST', '/api/v1/rollouts', { release: { model: MODEL, version }, stages });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return (created.body['rollout'] as Json)['id'] as string;
  }

  async function waitForStatus(id: string, status: string): Promise<View> {
    let view: View | undefined;
    await waitFor(
      async () => {
        view = (await api('GET', `/api/v1/rollouts/${id}`)).body as unknown as View;
        return view.rollout.state.status === status;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(view)}`);
    });
    return view as View;
  }

  before(async () => {
    assert.ok(trackers.length >= 5, 'the seed must give at least five tracker-2 devices');
    fx = await createServerFixture({ rollouts: { tickIntervalS: 0.05 } });
    for (const version of new Set(trackers.map((d) => d.firmwareVersion)))
      await publish(version, simulatedImage(MODEL, version));
    sim = await startSimulation(deps, {
      devices: DEVICES,
      seed: SEED,
      serverUrl: `mqtts://127.0.0.1:${fx.mqttPort}`,
      dataDir: fx.dataDir,
      backoff: { initialMs: 100, maxMs: 500 },
      updates: {
        deviceHttpUrl: fx.server().deviceHttpUrl,
        push: true,
        pollIntervalS: 3600,
        healthRetryDelayMs: 50,
        connectWithinMs: 10_000,
      },
    });
    await sim.ramped;
    await waitFor(() => sim?.connectedCount() === sim?.agents.length, { timeoutMs: 30_000 });
  });

  after(async () => {
    await sim?.stop();
    await fx?.close();
  });

  it('completes a good release through every stage', async () => {
    await publish('3.0.0', simulatedImage(MODEL, '3.0.0'));
    const view = await waitForStatus(await createRollout('3.0.0'), 'completed');
    assert.equal(view.devices['success'], trackers.length, JSON.stringify(view.devices));
  });

  it('halts a release failing its health check at the canaries, touching no other device', async () => {
    await publish('3.1.0', simulatedImage(MODEL, '3.1.0', { unhealthy: true }));
    const id = await createRollout('3.1.0');
    pausedId = id;
    const view = await waitForStatus(id, 'paused');
    assert.equal(view.rollout.state.stageIndex, 0);
    assert.equal(view.rollout.state.pauseReason?.['kind'], 'gate');
    const canaries = view.stages[0]?.devices ?? 0;
    assert.equal(view.devices['not-started'], trackers.length - canaries, JSON.stringify(view.devices));
    // Still paused, still untouched, a while later.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const later = (await api('GET', `/api/v1/rollouts/${id}`)).body as unknown as View;
    assert.equal(later.rollout.state.status, 'paused');
    assert.equal(later.devices['not-started'], trackers.length - canaries);
    // The pause raised one critical alert about this rollout.
    const alerts = await api('GET', `/api/v1/alerts?state=open&subjectKind=rollout&subjectId=${id}`);
    const items = alerts.body['items'] as Array<Json>;
    assert.equal(items.length, 1, JSON.stringify(alerts.body));
    assert.equal(items[0]?.['severity'], 'critical');
    assert.equal(items[0]?.['rule'], 'rollout.gate-failed');
    assert.match(String(items[0]?.['title']), /paused: (success|failure)-rate gate failed/);
  });

  it('answers bad input with 400, overlaps and wrong actions with 409', async () => {
    const unknown = await api('POST', '/api/v1/rollouts', { release: { model: MODEL, version: '9.9.9' } });
    assert.equal(unknown.status, 400);
    const overlapping = await api('POST', '/api/v1/rollouts', {
      release: { model: MODEL, version: '3.1.0' },
    });
    assert.equal(overlapping.status, 409, JSON.stringify(overlapping.body));
    assert.equal((await api('POST', `/api/v1/rollouts/${pausedId}/approve`, {})).status, 409);
    const cancelled = await api('POST', `/api/v1/rollouts/${pausedId}/cancel`, { note: 'bad image' });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal((await api('GET', '/api/v1/rollouts/nope')).status, 404);
  });

  it('is listed, shown and refused by the CLI', async () => {
    const server = ['--server', `http://127.0.0.1:${fx.httpPort}`];
    const list = await flotilla(['rollout', 'list', '--json', ...server]);
    assert.equal(list.code, 0, list.stderr);
    const items = (JSON.parse(list.stdout) as { items: Array<{ id: string; state: { status: string } }> })
      .items;
    assert.equal(items[0]?.id, pausedId, 'newest first');
    assert.equal(items[0]?.state.status, 'cancelled');
    const show = await flotilla(['rollout', 'show', pausedId, ...server]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /cancelled/);
    assert.match(show.stdout, /failure-rate/);
    const refused = await flotilla(['rollout', 'approve', pausedId, ...server]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /cannot approve/);
  });

  it('keeps devices whose maintenance window is closed at downloaded; the open window installs', async () => {
    await publish('3.2.0', simulatedImage(MODEL, '3.2.0'));
    const closedGroup = trackers.slice(0, 2).map((d) => d.deviceId);
    // A one-hour window twelve hours from now is surely closed during the test; `* * * * *`
    // lasting two minutes is always open.
    const closed = {
      cron: `0 ${(new Date().getUTCHours() + 12) % 24} * * *`,
      durationS: 3600,
      timezone: 'UTC',
    };
    const created = await api('POST', '/api/v1/rollouts', {
      release: { model: MODEL, version: '3.2.0' },
      stages: [{ percent: 100, holdS: 0 }],
      maintenanceWindows: [
        { selector: { deviceIds: closedGroup }, ...closed },
        { cron: '* * * * *', durationS: 120, timezone: 'Europe/Berlin' },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = (created.body['rollout'] as Json)['id'] as string;
    let view: View | undefined;
    await waitFor(
      async () => {
        view = (await api('GET', `/api/v1/rollouts/${id}`)).body as unknown as View;
        return (
          view.devices['success'] === trackers.length - closedGroup.length &&
          view.devices['downloaded'] === closedGroup.length
        );
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(view)}`);
    });
    // Waiting for a window is neither a failure nor stuck: the rollout runs on, nothing paused.
    assert.equal(view?.rollout.state.status, 'running');
    const deployments = (await api('GET', '/api/v1/firmware/deployments')).body['items'] as Json[];
    const windows = deployments
      .filter((d) => d['source'] === `rollout:${id}`)
      .map((d) => JSON.stringify(d['installWindow']));
    assert.equal(windows.length, 2);
    assert.ok(windows.includes(JSON.stringify(closed)), windows.join(' '));
    await api('POST', `/api/v1/rollouts/${id}/cancel`, { note: 'done testing windows' });
  });

  it("resolves the pause's alert when the rollout is cancelled, and lists it in the CLI", async () => {
    const server = ['--server', `http://127.0.0.1:${fx.httpPort}`];
    const list = await flotilla([
      'alerts',
      'list',
      '--all',
      '--rule',
      'rollout.gate-failed',
      '--json',
      ...server,
    ]);
    assert.equal(list.code, 0, list.stderr);
    const items = (JSON.parse(list.stdout) as { items: Array<{ id: string; state: string; subject: Json }> })
      .items;
    const alert = items.find((a) => a.subject['id'] === pausedId);
    assert.equal(alert?.state, 'resolved', list.stdout);
    const show = await flotilla(['alerts', 'show', alert.id, ...server]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /opened/);
    assert.match(show.stdout, /resolved: rollout cancelled/);
    const again = await flotilla(['alerts', 'resolve', alert.id, ...server]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already resolved/);
  });
});
