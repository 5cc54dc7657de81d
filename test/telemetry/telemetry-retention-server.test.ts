/**
 * The retention job as the server runs it: started with the server on its timers, it archives
 * expired telemetry shortly after start, and the catalog is served at /api/v1/telemetry/archives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { fakeTime } from '../helpers/fake-time.ts';
import { waitFor } from '../helpers/wait.ts';
import { daysAgo, nowMs, sampleBatches } from './retention-fixture.ts';

describe('telemetry retention in the server', () => {
  const time = fakeTime(nowMs);
  let fx: ServerFixture;
  before(async () => {
    fx = await createServerFixture(
      {
        telemetry: { retentionDays: { healthRaw: 3, appRaw: 2, events: 4 }, archive: { initialDelayS: 30 } },
      },
      { clock: time.clock, timers: time.timers },
    );
    const server = fx.server();
    await server.stores.devices.createDevice({ id: 'dev-a', serial: 'S-a' }, daysAgo(30));
    await server.stores.telemetry.writeBatches(sampleBatches(['dev-a']));
  });
  after(() => fx.close());

  const get = async (path: string): Promise<Response> => fetch(`${fx.server().httpUrl}${path}`);

  it('runs the job initialDelayS after start and serves the catalog', async () => {
    assert.deepEqual(await (await get('/api/v1/telemetry/archives')).json(), { items: [] });
    time.advance(30_000);
    await waitFor(
      async () =>
        /flotilla_telemetry_archive_runs_total\{outcome="success"\} 1/.test(
          await (await get('/metrics')).text(),
        ),
      {
        what: 'the first retention run',
      },
    );
    const { items } = (await (await get('/api/v1/telemetry/archives?table=events')).json()) as {
      items: Array<{ path: string; rows: number }>;
    };
    assert.deepEqual(
      items.map((i) => i.path),
      ['20', '21', '22'].map((d) => `events/day=2026-11-${d}/data.parquet`),
    );
    const series = await get(
      `/api/v1/telemetry/series?device=dev-a&metric=battery_pct&resolution=raw&from=${daysAgo(8)}&to=${daysAgo(-1)}`,
    );
    assert.equal(((await series.json()) as { points: unknown[] }).points.length, 8 * 3);
  });
});
