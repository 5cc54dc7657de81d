/** The example inputs and the committed benchmark figures, built into plans at a fixed time. */
import { fileURLToPath } from 'node:url';
import {
  buildPlan,
  readBenchmarkFigures,
  readPlanInput,
  type Plan,
  type PlanInput,
} from '../../src/plan/index.ts';
import { planInputSchema } from '../../src/plan/input-schema.ts';
import type { BenchmarkFigures } from '../../src/plan/benchmarks.ts';

export const EXAMPLES = ['plan-wifi-small', 'plan-cellular-1m', 'plan-nbiot-battery'] as const;
export type ExampleName = (typeof EXAMPLES)[number];

/** "Generated at" of every golden document (an injected time, never the clock). */
export const GENERATED_AT_MS = Date.UTC(2026, 10, 27, 12, 0, 0);

export const exampleFile = (name: ExampleName): string =>
  fileURLToPath(new URL(`../../docs/examples/${name}.yaml`, import.meta.url));

export const benchmarks = (): Promise<BenchmarkFigures> => readBenchmarkFigures();

export const loadExample = (name: ExampleName): Promise<PlanInput> => readPlanInput(exampleFile(name));

export function plan(input: PlanInput, bench: BenchmarkFigures): Plan {
  return buildPlan(input, { bench, benchFile: 'docs/benchmarks.json', generatedAtMs: GENERATED_AT_MS });
}

/**
 * A copy of `document` with values set at dotted paths (`hardware.storage.flashMiB`); `undefined`
 * deletes. Missing objects on the way are created.
 */
export function withChanges<T>(document: T, changes: Record<string, unknown>): T {
  const copy = structuredClone(document);
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split('.');
    let node = copy as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    const last = keys.at(-1)!;
    if (value === undefined) delete node[last];
    else node[last] = value;
  }
  return copy;
}

/** The example with changes, re-validated (so the changed document is one a user could write). */
export async function variant(name: ExampleName, changes: Record<string, unknown>): Promise<PlanInput> {
  return planInputSchema.parse(withChanges(await loadExample(name), changes));
}
