import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEVICE_ID_PATTERN } from '../../src/contracts/topics.ts';
import { deviceStateSchema } from '../../src/agent/state.ts';
import { mulberry32, simulatedDevice, simulatedFleet } from '../../src/sim/attributes.ts';

/** Map.groupBy needs Node 21; the project supports Node 20. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

describe('simulated device attributes', () => {
  it('mulberry32 is deterministic per seed and stays in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const values = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(
      values,
      Array.from({ length: 1000 }, () => b()),
    );
    assert.ok(values.every((v) => v >= 0 && v < 1));
    assert.notEqual(mulberry32(43)(), mulberry32(42)());
  });

  it('same seed, same fleet; a device does not depend on the fleet size', () => {
    assert.deepEqual(simulatedFleet(50, 7), simulatedFleet(50, 7));
    assert.deepEqual(simulatedFleet(500, 7)[42], simulatedDevice(42, 7));
    assert.notDeepEqual(simulatedDevice(42, 7), simulatedDevice(42, 8));
  });

  it('produces ids, serials and state the contracts accept, unique across the fleet', () => {
    const fleet = simulatedFleet(10_000, 3);
    assert.equal(fleet[12]?.deviceId, 'sim-3-00012');
    assert.equal(new Set(fleet.map((d) => d.deviceId)).size, fleet.length);
    assert.equal(new Set(fleet.map((d) => d.serial)).size, fleet.length);
    for (const d of fleet.slice(0, 500)) {
      assert.match(d.deviceId, DEVICE_ID_PATTERN);
      const state = { firmwareVersion: d.firmwareVersion, hardware: d.hardware, serial: d.serial };
      deviceStateSchema.parse({ ...state, region: d.region, tags: d.tags });
    }
  });

  it('looks like a real fleet: most devices on the current firmware, a tail on older ones', () => {
    const fleet = simulatedFleet(10_000, 1);
    const byModel = groupBy(fleet, (d) => d.hardware.model);
    assert.deepEqual([...byModel.keys()].sort(), ['gateway-x1', 'sensor-mini', 'tracker-2']);
    for (const devices of byModel.values()) {
      const counts = [...groupBy(devices, (d) => d.firmwareVersion).values()]
        .map((group) => group.length)
        .sort((x, y) => y - x);
      assert.ok(counts.length >= 3, 'several versions in the field');
      assert.ok((counts[0] ?? 0) > devices.length / 2, 'a majority on one (the current) version');
    }
    const regions = new Set(fleet.map((d) => d.region));
    assert.ok(regions.has('eu-west') && regions.has('us-east') && regions.has('ap-south'));
  });
});
