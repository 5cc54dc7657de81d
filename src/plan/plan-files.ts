/**
 * The plan's file edge: reads the input document (YAML or JSON, by content: JSON is YAML) and the
 * benchmark figures. Everything else in src/plan is pure.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ValidationError } from '../infra/errors.ts';
import { parseBenchmarkFigures, type BenchmarkFigures } from './benchmarks.ts';
import { parsePlanInput, type PlanInput } from './input-schema.ts';

/** docs/benchmarks.json of this installation (committed; rewritten by `npm run bench`). */
export const DEFAULT_BENCHMARKS_FILE = fileURLToPath(new URL('../../docs/benchmarks.json', import.meta.url));

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ValidationError(
      `cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

function parseDocument(text: string, source: string): unknown {
  try {
    return parseYaml(text, { prettyErrors: true }) as unknown;
  } catch (err) {
    throw new ValidationError(`${source}: not YAML or JSON: ${(err as Error).message}`);
  }
}

/** Parses YAML or JSON text into a validated input; `source` names it in errors. */
export function parsePlanInputText(text: string, source: string): PlanInput {
  return parsePlanInput(parseDocument(text, source));
}

/** The document as written (to send to a server, without the defaults) and its validated input. */
export async function readPlanDocument(file: string): Promise<{ document: unknown; input: PlanInput }> {
  const document = parseDocument(await readText(file, 'plan input'), file);
  return { document, input: parsePlanInput(document) };
}

export async function readPlanInput(file: string): Promise<PlanInput> {
  return (await readPlanDocument(file)).input;
}

export async function readBenchmarkFigures(
  file: string = DEFAULT_BENCHMARKS_FILE,
): Promise<BenchmarkFigures> {
  const text = await readText(file, 'benchmark file');
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`benchmark file ${file}: not JSON: ${(err as Error).message}`);
  }
  return parseBenchmarkFigures(document, file);
}

/** The installation's own figures, re-read each time (`npm run bench` may have rewritten them). */
export async function shippedBenchmarks(): Promise<{ figures: BenchmarkFigures; file: string }> {
  return { figures: await readBenchmarkFigures(DEFAULT_BENCHMARKS_FILE), file: 'docs/benchmarks.json' };
}
