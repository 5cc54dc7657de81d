import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { offlineClusterSchema, type OfflineFactor } from '../../src/anomaly/anomaly-config.ts';
import {
  activeCluster,
  clusterCleared,
  confirmClusters,
  findOfflineClusters,
  type OfflineCluster,
} from '../../src/anomaly/offline-clusters.ts';
import type { FactorCount, OfflineDevice } from '../../src/store/anomaly-types.ts';
import { seeded } from './random-data.ts';

const config = offlineClusterSchema.parse({});

interface FleetDevice extends OfflineDevice {
  online: boolean;
}

/** 1,000 devices: 5 regions of 200, each with 4 sites of 50; firmware 1.0 or 2.0 alternating; one model. */
function fleet(): FleetDevice[] {
  return Array.from({ length: 1000 }, (_, i) => ({
    deviceId: `d${String(i).padStart(4, '0')}`,
    model: 'm1',
    firmware: i % 2 === 0 ? '1.0' : '2.0',
    region: `r${Math.floor(i / 200)}`,
    tags: { site: `r${Math.floor(i / 200)}-s${Math.floor((i % 200) / 50)}` },
    offlineSinceMs: 0,
    online: true,
  }));
}

/** Takes devices offline; returns the clusters found among them. */
function drop(devices: FleetDevice[], which: (d: FleetDevice) => boolean): OfflineCluster[] {
  const dropped: OfflineDevice[] = [];
  for (const d of devices)
    if (d.online && which(d)) {
      d.online = false;
      dropped.push(d);
    }
  return findOfflineClusters(config, dropped, counts(devices));
}

function counts(devices: readonly FleetDevice[]): Map<OfflineFactor, FactorCount[]> {
  const result = new Map<OfflineFactor, FactorCount[]>();
  const valueOf: Record<string, (d: FleetDevice) => string | null> = {
    region: (d) => d.region,
    'tag:site': (d) => d.tags['site'] ?? null,
    firmware: (d) => d.firmware,
    model: (d) => d.model,
  };
  for (const factor of config.factors) {
    const per = new Map<string, FactorCount>();
    for (const d of devices) {
      const value = valueOf[factor]!(d);
      if (value === null) continue;
      const c = per.get(value) ?? { value, total: 0, online: 0 };
      c.total += 1;
      if (d.online) c.online += 1;
      per.set(value, c);
    }
    result.set(factor, [...per.values()]);
  }
  return result;
}

describe('offline clusters', () => {
  it('a region going dark is one cluster named by its region, not by its sites', () => {
    const clusters = drop(fleet(), (d) => d.region === 'r2');
    assert.deepEqual(
      clusters.map((c) => [c.key, c.deviceIds.length, c.share]),
      [['region=r2', 200, 1]],
    );
    assert.ok(clusters[0]!.pValue < 1e-50);
    assert.equal(clusters[0]!.fleetShare, 0.2);
  });

  it('one site is named by its site', () => {
    const clusters = drop(fleet(), (d) => d.tags['site'] === 'r1-s3');
    assert.deepEqual(
      clusters.map((c) => c.key),
      ['tag:site=r1-s3'],
    );
  });

  it('a firmware crashing devices everywhere is named by its firmware', () => {
    const clusters = drop(fleet(), (d) => d.firmware === '2.0' && Number(d.deviceId.slice(1)) % 10 < 8);
    assert.deepEqual(
      clusters.map((c) => c.key),
      ['firmware=2.0'],
    );
  });

  it('two outages at once are two clusters', () => {
    const clusters = drop(fleet(), (d) => d.region === 'r0' || d.tags['site'] === 'r4-s1');
    assert.deepEqual(clusters.map((c) => c.key).sort(), ['region=r0', 'tag:site=r4-s1']);
  });

  it('a fleet-wide outage is no cluster: no group is over-represented', () => {
    assert.deepEqual(
      drop(fleet(), () => true),
      [],
    );
  });

  it('too few devices, or too small a share of the group, is no cluster', () => {
    assert.deepEqual(
      drop(fleet(), (d) => d.tags['site'] === 'r3-s0' && d.deviceId < 'd0609'),
      [],
    );
    // 24 of the 50 devices of a site: below half.
    assert.deepEqual(
      drop(fleet(), (d) => d.tags['site'] === 'r3-s1' && d.deviceId < 'd0674'),
      [],
    );
  });

  it('devices that were offline already are not counted as the group online', () => {
    const devices = fleet();
    // Half of r1 has been offline for days; the other half now drops: all of its online devices.
    for (const d of devices) if (d.region === 'r1' && Number(d.deviceId.slice(1)) % 2 === 0) d.online = false;
    const clusters = drop(devices, (d) => d.region === 'r1');
    assert.deepEqual(
      clusters.map((c) => [c.key, c.deviceIds.length, c.groupOnline]),
      [['region=r1', 100, 100]],
    );
  });

  it('waits for a cluster to stop growing before confirming it', () => {
    const cluster = (key: string, n: number) =>
      ({ key, deviceIds: Array.from({ length: n }, (_, i) => `d${i}`) }) as OfflineCluster;
    let state = confirmClusters(new Map(), [cluster('tag:site=a', 12)]);
    assert.deepEqual(state.confirmed, []);
    // The region took over: a new key, pending again.
    state = confirmClusters(state.pending, [cluster('region=r', 40)]);
    assert.deepEqual(state.confirmed, []);
    state = confirmClusters(state.pending, [cluster('region=r', 60)]);
    assert.deepEqual(state.confirmed, [], 'still growing');
    state = confirmClusters(state.pending, [cluster('region=r', 62)]);
    assert.deepEqual(
      state.confirmed.map((c) => c.key),
      ['region=r'],
    );
  });

  it('clears when fewer than clearShare of its devices are still offline', () => {
    const devices = fleet();
    for (const d of devices.slice(400, 410)) d.online = false; // offline before, in r2
    const [cluster] = drop(devices, (d) => d.region === 'r2');
    const active = activeCluster(
      cluster!,
      counts(devices)
        .get('region')!
        .find((c) => c.value === 'r2'),
    );
    assert.deepEqual([active.count, active.offlineBefore], [190, 10]);
    const region = () =>
      counts(devices)
        .get('region')!
        .find((c) => c.value === 'r2');
    for (const d of devices.slice(410, 500)) d.online = true; // 90 back: 100 of 190 still offline
    assert.equal(clusterCleared(active, region(), 0.5), false);
    for (const d of devices.slice(500, 510)) d.online = true; // 90 of 190 still offline
    assert.equal(clusterCleared(active, region(), 0.5), true);
  });

  it('false positives: random independent disconnects in a healthy fleet (seed 3)', (t) => {
    // 2,000 windows; in each, every online device drops with probability 0.5 % (≈ 5 a window)
    // and comes back the window after.
    const random = seeded(3);
    let found = 0;
    for (let w = 0; w < 2000; w += 1) found += drop(fleet(), () => random.uniform() < 0.005).length;
    t.diagnostic(`${found} clusters in 2,000 windows of random disconnects`);
    assert.equal(found, 0);
  });
});
