/**
 * Deterministic, realistic attributes for simulated devices. Each device gets its own PRNG
 * stream derived from (seed, index), so device 7 looks the same in a fleet of 10 or 10,000,
 * and the same seed always gives the same fleet. Pure.
 */

/** mulberry32: a tiny, fast 32-bit PRNG; plenty for test data (not for cryptography). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A bijective 32-bit mix (xorshift-multiply steps, each invertible): distinct inputs give
 * distinct outputs, which makes serials unique within a fleet without a lookup table.
 */
export function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

type Weighted<T> = readonly (readonly [T, number])[];

export function pickWeighted<T>(choices: Weighted<T>, random: () => number): T {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let r = random() * total;
  for (const [value, weight] of choices) {
    r -= weight;
    if (r < 0) return value;
  }
  const last = choices[choices.length - 1];
  if (!last) throw new Error('pickWeighted: no choices');
  return last[0];
}

interface ModelProfile {
  serialPrefix: string;
  revisions: Weighted<string>;
  /** Current release first: most of a real fleet runs it, with a tail on older releases. */
  firmware: Weighted<string>;
}

const MODELS: Record<string, ModelProfile> = {
  'tracker-2': {
    serialPrefix: 'TR2',
    revisions: [
      ['A', 10],
      ['B', 60],
      ['C', 30],
    ],
    firmware: [
      ['2.4.1', 72],
      ['2.4.0', 16],
      ['2.3.2', 8],
      ['2.1.0', 4],
    ],
  },
  'gateway-x1': {
    serialPrefix: 'GX1',
    revisions: [
      ['1.0', 35],
      ['1.1', 65],
    ],
    firmware: [
      ['1.8.0', 68],
      ['1.7.3', 20],
      ['1.7.0', 9],
      ['1.5.2', 3],
    ],
  },
  'sensor-mini': {
    serialPrefix: 'SNM',
    revisions: [
      ['A', 40],
      ['B', 60],
    ],
    firmware: [
      ['3.0.2', 75],
      ['3.0.1', 14],
      ['2.9.0', 8],
      ['2.6.4', 3],
    ],
  },
};

const MODEL_WEIGHTS: Weighted<string> = [
  ['tracker-2', 45],
  ['sensor-mini', 40],
  ['gateway-x1', 15],
];

/** Regions weighted like a fleet that started in Europe, then grew in the US and Asia. */
const REGIONS: Weighted<string> = [
  ['eu-west', 35],
  ['us-east', 25],
  ['eu-north', 15],
  ['us-west', 10],
  ['ap-south', 10],
  ['ap-northeast', 5],
];

const SITES: Record<string, readonly string[]> = {
  'eu-west': ['amsterdam', 'paris', 'dublin', 'frankfurt'],
  'eu-north': ['stockholm', 'helsinki', 'oslo'],
  'us-east': ['new-york', 'boston', 'atlanta'],
  'us-west': ['seattle', 'san-jose', 'denver'],
  'ap-south': ['mumbai', 'bangalore', 'singapore'],
  'ap-northeast': ['tokyo', 'osaka', 'seoul'],
};

export interface SimulatedDevice {
  index: number;
  deviceId: string;
  serial: string;
  hardware: { model: string; revision: string };
  firmwareVersion: string;
  region: string;
  tags: Record<string, string>;
}

/** The attributes of device number `index` (0-based) of the fleet with `seed` (integer ≥ 0). */
export function simulatedDevice(index: number, seed: number): SimulatedDevice {
  const random = mulberry32(mix32(seed) ^ mix32(index + 0x9e3779b9));
  const model = pickWeighted(MODEL_WEIGHTS, random);
  const profile = MODELS[model] as ModelProfile;
  const region = pickWeighted(REGIONS, random);
  const sites = SITES[region] ?? ['unknown'];
  const site = sites[Math.floor(random() * sites.length)] ?? 'unknown';
  const manufactured = 2021 + Math.floor(random() * 4);
  const week = 1 + Math.floor(random() * 52);
  // mix32 is a bijection, so index → serial suffix never collides within one seed.
  const unique = mix32((index ^ mix32(seed)) >>> 0)
    .toString(16)
    .toUpperCase()
    .padStart(8, '0');
  return {
    index,
    deviceId: `sim-${seed}-${String(index).padStart(5, '0')}`,
    serial: `${profile.serialPrefix}-${String(manufactured % 100)}${String(week).padStart(2, '0')}-${unique}`,
    hardware: { model, revision: pickWeighted(profile.revisions, random) },
    firmwareVersion: pickWeighted(profile.firmware, random),
    region,
    tags: { site, env: random() < 0.9 ? 'production' : 'staging', batch: `b${manufactured}` },
  };
}

/** Devices 0…count-1 of the fleet with `seed`. */
export function simulatedFleet(count: number, seed: number): SimulatedDevice[] {
  return Array.from({ length: count }, (_, index) => simulatedDevice(index, seed));
}
