/**
 * Tiered reads through the HTTP API: raw series and events over a range that spans archived and
 * hot days answer the same before and after the retention job moved the old days to Parquet.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { telemetryArchiveRoutes } from '../../src/api/routes/telemetry-archives.ts';
import { telemetryRoutes } from '../../src/api/routes/telemetry.ts';
import { createDeviceScope } from '../../src/api/device-scope.ts';
import { GroupService } from '../../src/groups/group-service.ts';
import { createHttpServer, type HttpServer } from '../../src/api/http-server.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { openStores, type Stores } from '../../src/store/open-store.ts';
import { ParquetArchiveReader } from '../../src/telemetry/retention/archive-reader.ts';
import { groupMembers, tieredTelemetryStore } from '../../src/telemetry/retention/tiered-telemetry-store.ts';
import { tempDatabaseFiles } from '../helpers/sqlite-test-env.ts';
import { daysAgo, retentionRig, sampleBatches, type RetentionRig } from './retention-fixture.ts';

const files = tempDatabaseFiles('tiered');

describe('tiered telemetry queries (HTTP API)', () => {
  let stores: Stores;
  let rig: RetentionRig;
  let http: HttpServer;

  before(async () => {
    await files.open();
    stores = await openStores({ kind: 'sqlite', file: files.fresh() });
    await stores.devices.createDevice({ id: 'dev-a', serial: 'S-a', hardwareModel: 'm1' }, daysAgo(30));
    await stores.devices.createDevice({ id: 'dev-b', serial: 'S-b', hardwareModel: 'm1' }, daysAgo(30));
    await stores.devices.createDevice({ id: 'dev-c', serial: 'S-c', hardwareModel: 'm2' }, daysAgo(30));
    await stores.telemetry.writeBatches(sampleBatches(['dev-a', 'dev-b', 'dev-c']));
    rig = await retentionRig(stores);
    const store = tieredTelemetryStore({
      hot: stores.telemetry,
      archive: new ParquetArchiveReader({ catalog: stores.telemetryRetention, archiveRoot: rig.root }),
      membersOf: groupMembers(stores.devices),
    });
    http = createHttpServer({
      logger: createLogger('silent'),
      metricsRegistry: new Registry(),
      routes: [
        // Access control is off here (no auth): the scope never narrows. It is tested in test/access.
        ...telemetryRoutes({
          store,
          clock: rig.time.clock,
          scope: createDeviceScope({
            devices: stores.devices,
            groups: new GroupService({ groups: stores.groups, clock: rig.time.clock }),
            clock: rig.time.clock,
          }),
        }),
        ...telemetryArchiveRoutes({ catalog: stores.telemetryRetention }),
      ],
      version: 'test',
    });
  });
  after(async () => {
    await http.close();
    await stores.close();
    await rig.close();
    await files.close();
  });

  const from = daysAgo(8);
  const to = daysAgo(-1);
  const queries = [
    `/api/v1/telemetry/series?device=dev-a&metric=battery_pct&resolution=raw&from=${from}&to=${to}`,
    `/api/v1/telemetry/series?device=dev-b&metric=pump.flow_lpm&resolution=raw&from=${from}&to=${to}`,
    `/api/v1/telemetry/series?model=m1&metric=battery_pct&resolution=raw&from=${from}&to=${to}`,
    `/api/v1/telemetry/series?fleet=true&metric=battery_pct&resolution=raw&from=${from}&to=${to}`,
    `/api/v1/telemetry/series?fleet=true&metric=battery_pct&resolution=raw&from=${from}&to=${to}&limit=7`,
    `/api/v1/telemetry/series?device=dev-c&metric=battery_pct&resolution=raw&from=${daysAgo(5) + 3_600_000}&to=${daysAgo(1)}&limit=4`,
    `/api/v1/telemetry/series?device=dev-a&metric=battery_pct&resolution=day&from=${from}&to=${to}`,
    `/api/v1/telemetry/events?device=dev-a&from=${from}&to=${to}`,
    `/api/v1/telemetry/events?device=dev-b&from=${from}&to=${to}&limit=3`,
    `/api/v1/telemetry/events?device=dev-b&type=error&severity=error&from=${from}&to=${daysAgo(3)}`,
  ];

  async function answers(): Promise<unknown[]> {
    const bodies: unknown[] = [];
    for (const url of queries) {
      const response = await http.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
      bodies.push(response.json());
    }
    return bodies;
  }

  it('answers the same points and events before and after archiving', async () => {
    const hotOnly = await answers();
    const series = hotOnly[3] as { points: unknown[] };
    assert.equal(series.points.length, 8 * 3 * 3); // 8 days × 3 devices × 3 battery windows
    assert.equal((hotOnly[4] as { points: unknown[] }).points.length, 7);

    const report = await rig.job().runOnce();
    assert.equal(report.archived.length, 12);
    assert.ok(report.deleted.windows > 0 && report.deleted.events > 0);

    assert.deepEqual(await answers(), hotOnly);

    const archives = await http.inject({
      method: 'GET',
      url: '/api/v1/telemetry/archives?table=windows&kind=app',
    });
    assert.equal(archives.statusCode, 200);
    const items = archives.json<{ items: Array<{ path: string; rows: number }> }>().items;
    assert.deepEqual(
      items.map((i) => [i.path, i.rows]),
      ['20', '21', '22', '23', '24'].map((d) => [`windows/kind=app/day=2026-11-${d}/data.parquet`, 6]),
    );
  });
});
