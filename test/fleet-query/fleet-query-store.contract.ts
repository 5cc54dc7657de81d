/**
 * The fleet-query contract, run against every DeviceStore (SQLite, PostgreSQL): a table of
 * queries over the fixed fleet with the device ids each must return, injection attempts that
 * must return exactly the right devices and never a SQL error, paging and counting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseFleetQuery } from '../../src/fleet-query/index.ts';
import type { DeviceStore } from '../../src/store/types.ts';
import { allIds, createFleet, nowMs, type AddTelemetry } from './fleet-fixture.ts';

export interface QueryStoreEnv {
  devices: DeviceStore;
  addTelemetry: AddTelemetry;
  close(): Promise<void>;
}

const except = (...ids: string[]) => allIds.filter((id) => !ids.includes(id));

/** [query, expected ids in id order] */
export const queryCases: Array<[string, string[]]> = [
  [
    'model = "tracker-2" and firmware < 2.4.0 and region in ("eu-west", "eu-north") and battery < 20 and offline_for > 24h',
    ['d01'],
  ],
  // semver, not text: 2.10.0 > 2.9.0, pre-releases below their release, build metadata ignored
  ['firmware > 2.9.0', ['d04']],
  ['firmware >= 2.4.0', ['d02', 'd04', 'd07']],
  ['firmware < 2.4.0', ['d01', 'd03', 'd05']],
  ['firmware <= 2.4.0-rc.1', ['d01', 'd03', 'd05']],
  ['firmware > 2.4.0-rc.0 and firmware < 2.4.0', ['d03']],
  ['firmware = 1.0.0', ['d05']],
  ['firmware in (2.3.9, 2.10.0)', ['d01', 'd04']],
  ['firmware = "1.0.0+build.7"', ['d05']],
  ['firmware in ("custom-build", 2.9.0)', ['d06', 'd07']],
  ['firmware != 2.4.0', except('d02')],
  ['not exists(firmware)', ['d08']],
  // text fields; a missing value matches != and not in
  ['region in ("eu-west", "eu-north")', ['d01', 'd02', 'd03', 'd05', 'd07']],
  ['region not in ("eu-west")', ['d02', 'd04', 'd06', 'd07', 'd08']],
  ['region != "eu-west"', ['d02', 'd04', 'd06', 'd07', 'd08']],
  ['not (region = "eu-west")', ['d02', 'd04', 'd06', 'd07', 'd08']],
  ['region exists', except('d06', 'd08')],
  ['revision = "B" and tag.ring = "beta"', ['d01', 'd04']],
  ['serial = "sn-d03"', ['d03']],
  ['id in ("d01", "d99")', ['d01']],
  ['owner = "acme"', ['d05', 'd08']],
  // tags
  ['tag.ring = "beta"', ['d01', 'd04']],
  ['tag.ring != "beta"', except('d01', 'd04')],
  ['tag.ring in ("beta", "stable")', ['d01', 'd02', 'd04']],
  ['tag.ring not in ("beta", "stable")', except('d01', 'd02', 'd04')],
  ['tag.ring exists', ['d01', 'd02', 'd04']],
  ['tag.ring not exists', except('d01', 'd02', 'd04')],
  ['exists(tag.site) and tag.site = "berlin"', ['d01']],
  // connection state and times
  ['online', ['d02', 'd04', 'd06']],
  ['online = false', ['d01', 'd03', 'd05', 'd07', 'd08']],
  ['status = "offline"', ['d01', 'd03', 'd05', 'd07', 'd08']],
  ['status != "offline"', ['d02', 'd04', 'd06']],
  ['offline_for > 24h', ['d01', 'd05', 'd07']],
  ['offline_for >= 1d', ['d01', 'd05', 'd07', 'd08']],
  ['offline_for < 3h', ['d03']],
  ['offline_for > 1d6h', ['d01', 'd05']],
  ['not exists(offline_for)', ['d02', 'd04', 'd06']],
  ['age < 2d', ['d08']],
  ['created >= "2026-11-10"', ['d08']],
  ['last_seen < "2026-11-10T00:00:00Z"', ['d01', 'd07']],
  ['not exists(last_seen)', ['d05', 'd08']],
  // latest telemetry
  ['battery < 20', ['d01', 'd02', 'd07']],
  ['battery >= 50', ['d03']],
  ['battery != 10', except('d02')],
  ['not exists(battery)', ['d04', 'd05', 'd06', 'd08']],
  ['signal < -90', ['d01']],
  ['battery in (10, 50)', ['d02', 'd03']],
  ['telemetry.temperature_c > 39.5', ['d07']],
  // precedence, case-insensitive keywords and names
  ['model = "sensor-1" or owner = "acme" and not online', ['d05', 'd06', 'd08']],
  ['(model = "sensor-1" or owner = "acme") and not online', ['d05', 'd08']],
  ['not not online', ['d02', 'd04', 'd06']],
  ['MODEL = "tracker-2" AND NOT Online', ['d01', 'd03', 'd07', 'd08']],
];

/** Each must run without error and return exactly these devices. */
export const injectionCases: Array<[string, string[]]> = [
  ['region = "x\\" or 1=1 --"', []],
  [`region = "eu-west' OR '1'='1"`, []],
  [`region = "eu-west'); DELETE FROM devices; --"`, []],
  [`model in ("'); DROP TABLE devices; --", "sensor-1")`, ['d05', 'd06']],
  [`tag."ring' OR 1=1 --" = "beta"`, []],
  ['tag."ring\\") = 1 OR (\\"" exists', []],
  ['tag."$.ring" = "beta"', []],
  ['tag."odd key" = "x\\"y"', ['d06']],
  [`tag.ring != "x' OR '1'='1"`, allIds],
  [`telemetry."battery' OR 1=1 --" < 100`, []],
  ['tag."\\u0001" exists', []],
  ['model = "🛰 tracker\\u00e9"', []],
];

export function fleetQueryContract(open: () => Promise<QueryStoreEnv>): void {
  describe('fleet query contract', () => {
    let env: QueryStoreEnv;
    before(async () => {
      env = await open();
      await createFleet(env.devices, env.addTelemetry);
    });
    after(async () => {
      await env.close();
    });

    const where = (text: string) => ({ where: { query: parseFleetQuery(text), nowMs } });
    const ids = async (text: string) =>
      (await env.devices.listDevices(where(text), { limit: 1000 })).items.map((device) => device.id);

    for (const [text, expected] of queryCases) {
      it(`${text} → ${expected.join(', ') || 'none'}`, async () => {
        assert.deepEqual(await ids(text), expected);
        assert.equal(await env.devices.countDevices(where(text)), expected.length);
      });
    }

    for (const [text, expected] of injectionCases) {
      it(`injection attempt ${text} → ${expected.join(', ') || 'none'}`, async () => {
        assert.deepEqual(await ids(text), expected);
      });
    }

    it('still holds the whole fleet after the injection attempts', async () => {
      assert.equal(await env.devices.countDevices({}), allIds.length);
    });

    it('pages a query result by id with cursors', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await env.devices.listDevices(where('model = "tracker-2"'), { limit: 2, cursor });
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((device) => device.id));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      assert.deepEqual(seen, ['d01', 'd02', 'd03', 'd04', 'd07', 'd08']);
    });

    it('combines a query with the fixed filters', async () => {
      const filter = { ...where('tag.ring exists'), connectionState: 'online' as const };
      assert.deepEqual(
        (await env.devices.listDevices(filter, { limit: 10 })).items.map((device) => device.id),
        ['d02', 'd04'],
      );
      assert.equal(await env.devices.countDevices(filter), 2);
    });

    it('counts durations from the given reference time, not the database clock', async () => {
      const query = parseFleetQuery('offline_for > 24h');
      const later = await env.devices.countDevices({ where: { query, nowMs: nowMs + 30 * 86_400_000 } });
      assert.equal(later, 5);
      const earlier = await env.devices.countDevices({ where: { query, nowMs: nowMs - 5 * 86_400_000 } });
      assert.equal(earlier, 1);
    });
  });
}
