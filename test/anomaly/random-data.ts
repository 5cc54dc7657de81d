/** Seeded random data for the detectors' false-positive measurements. */
import { mulberry32 } from '../../src/sim/attributes.ts';
import { poisson } from '../../src/sim/sim-telemetry.ts';

export interface Random {
  uniform(): number;
  normal(): number;
  poisson(mean: number): number;
}

export function seeded(seed: number): Random {
  const uniform = mulberry32(seed);
  return {
    uniform,
    normal: () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()),
    poisson: (mean) => poisson(mean, uniform),
  };
}
