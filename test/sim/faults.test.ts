import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batteryDrainFactorAt, errorFactorAt, type SimFault } from '../../src/sim/sim-faults.ts';
import { simTelemetrySource } from '../../src/sim/sim-telemetry.ts';

const HOUR = 3_600_000;

describe('simulated faults', () => {
  it('an error rate ramps linearly to its factor, then stays', () => {
    const fault: SimFault = { sinceMs: 1000, errorFactor: 11, errorRampMs: 1000 };
    assert.deepEqual(
      [0, 1000, 1500, 2000, 9000].map((t) => errorFactorAt(fault, t)),
      [1, 1, 6, 11, 11],
    );
    assert.equal(errorFactorAt({ sinceMs: 0, errorFactor: 4 }, 1), 4);
    assert.equal(errorFactorAt(undefined, 1), 1);
    assert.equal(batteryDrainFactorAt({ sinceMs: 10, batteryDrainFactor: 5 }, 5), 1);
    assert.equal(batteryDrainFactorAt({ sinceMs: 10, batteryDrainFactor: 5 }, 10), 5);
  });

  it('a planted battery fault changes the slope from then on; the errors follow the ramp', () => {
    let fault: SimFault | undefined;
    const make = () =>
      simTelemetrySource({
        seed: 1,
        bootMs: 0,
        batteryDrainPerHour: 1,
        errorRatePerS: 1,
        fault: () => fault,
      });
    const healthy = make();
    const faulty = make();
    const battery = (s: ReturnType<typeof make>, t: number) => s.read(['battery_v'], t)['battery_v'] ?? NaN;
    // battery_v has no noise: 0.9 V spans 100 %.
    assert.equal(battery(healthy, HOUR), battery(faulty, HOUR));
    fault = { sinceMs: HOUR, batteryDrainFactor: 10 };
    const drop = (s: ReturnType<typeof make>) => battery(s, HOUR) - battery(s, 2 * HOUR);
    // Healthy: 1 % in the hour (0.009 V); faulty: 10 % (0.09 V).
    fault = undefined;
    const healthyDrop = drop(healthy);
    fault = { sinceMs: HOUR, batteryDrainFactor: 10 };
    assert.ok(Math.abs(healthyDrop - 0.01) < 0.011, `healthy drop ${healthyDrop}`);
    assert.ok(Math.abs(drop(faulty) - 0.09) < 0.011, `faulty drop ${drop(faulty)}`);

    fault = { sinceMs: 0, errorFactor: 20 };
    faulty.read(['errors'], 2 * HOUR);
    const errors = faulty.read(['errors'], 2 * HOUR + 100_000)['errors'] ?? 0;
    // 100 s at 20 errors/s: about 2,000.
    assert.ok(errors > 1700 && errors < 2300, `errors ${errors}`);
  });
});
