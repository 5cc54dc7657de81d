/** The whole server on PostgreSQL (the scale-out store): devices connect, the registry survives a restart. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import type { Device, FleetSummary } from '../../src/contracts/device.ts';
import { startSimulation, type SimulationHandle } from '../../src/sim/simulator.ts';
import { systemClock } from '../../src/infra/clock.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  adminClient,
  dropSchema,
  postgresUrl,
  probePostgres,
  skipUnlessCi,
  uniqueSchemaName,
} from '../helpers/postgres-test-env.ts';

const unreachable = await probePostgres();
const DEVICES = 5;

describe('server on PostgreSQL', { skip: skipUnlessCi(unreachable) }, () => {
  const schema = uniqueSchemaName();
  let admin: pg.Client;
  let fx: ServerFixture;
  let sim: SimulationHandle;

  before(async () => {
    admin = await adminClient(unreachable);
    fx = await createServerFixture({ store: { kind: 'postgres', postgresUrl, postgresSchema: schema } });
    sim = await startSimulation(
      { clock: systemClock, timers: systemTimers, random: Math.random, logger: createLogger('silent') },
      {
        devices: DEVICES,
        seed: 11,
        serverUrl: `mqtts://localhost:${fx.mqttPort}`,
        dataDir: fx.dataDir,
        backoff: { initialMs: 100, maxMs: 1000 },
      },
    );
  });
  after(async () => {
    await sim?.stop();
    await fx?.close();
    await dropSchema(admin, schema);
    await admin?.end();
  });

  it('registers connecting devices in PostgreSQL and keeps them across a restart', async () => {
    const online = async () => (await fx.api<FleetSummary>('/api/v1/fleet/summary')).body.online;
    await waitFor(async () => (await online()) === DEVICES, { what: `${DEVICES} devices online` });
    const rows = await admin.query<{ id: string }>(`SELECT id FROM "${schema}".devices ORDER BY id`);
    assert.deepEqual(
      rows.rows.map((r) => r.id),
      sim.devices.map((d) => d.deviceId),
    );

    await fx.stop();
    await fx.start();
    const afterRestart = (await fx.api<{ items: Device[] }>('/api/v1/devices')).body.items;
    assert.equal(afterRestart.length, DEVICES);
    await waitFor(async () => (await online()) === DEVICES, {
      what: 'devices reconnected',
      timeoutMs: 30_000,
    });
  });
});
