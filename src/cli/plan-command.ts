/**
 * `flotilla plan`: the fleet's architecture document from its requirements (docs/plan.md), on this
 * machine from the benchmark figures, or with `--server` from a running server's configuration
 * and fleet (`GET /api/v1/plan`).
 */
import { writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Command } from 'commander';
import { systemClock, type Clock } from '../infra/clock.ts';
import { ValidationError } from '../infra/errors.ts';
import {
  buildPlan,
  DEFAULT_BENCHMARKS_FILE,
  planResultSchema,
  planSummary,
  readBenchmarkFigures,
  readPlanDocument,
  readPlanInput,
  renderCostChart,
  renderPlanMarkdown,
  type PlanResult,
} from '../plan/index.ts';
import { ApiClient } from './api-client.ts';

/** `--strict` with a blocking finding (an error in the document's findings). */
export const EXIT_PLAN_BLOCKED = 3;

interface PlanFlags {
  input: string;
  server?: string;
  out?: string;
  strict: boolean;
  json: boolean;
  benchmarks?: string;
}

/** `plan.md` → `plan-cost-per-device.svg`, next to it. */
export function chartFileFor(out: string): string {
  return `${basename(out, extname(out))}-cost-per-device.svg`;
}

async function localPlan(flags: PlanFlags, clock: Clock, chartFile: string | null): Promise<PlanResult> {
  const input = await readPlanInput(flags.input);
  const benchFile = flags.benchmarks ?? DEFAULT_BENCHMARKS_FILE;
  const plan = buildPlan(input, {
    bench: await readBenchmarkFigures(benchFile),
    benchFile: flags.benchmarks ?? 'docs/benchmarks.json',
    generatedAtMs: clock.now(),
  });
  return planSummary(plan, renderPlanMarkdown(plan, { chartFile }), renderCostChart(plan));
}

async function serverPlan(
  flags: PlanFlags & { server: string },
  chartFile: string | null,
): Promise<PlanResult> {
  if (flags.benchmarks !== undefined)
    throw new ValidationError('--benchmarks: with --server the server uses its own benchmark figures');
  // Validated here first, so a schema error names the field without a round trip; sent as written.
  const { document } = await readPlanDocument(flags.input);
  const query: Array<[string, string]> = [['input', JSON.stringify(document)]];
  if (chartFile !== null) query.push(['chartFile', chartFile]);
  return new ApiClient(flags.server).get('/api/v1/plan', planResultSchema, query);
}

async function writeOut(file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text);
  } catch (err) {
    throw new ValidationError(
      `--out: cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

export async function runPlan(flags: PlanFlags, clock: Clock = systemClock): Promise<number> {
  const chartFile = flags.out !== undefined ? chartFileFor(flags.out) : null;
  const result =
    flags.server !== undefined
      ? await serverPlan({ ...flags, server: flags.server }, chartFile)
      : await localPlan(flags, clock, chartFile);
  if (flags.out !== undefined) {
    await writeOut(flags.out, result.markdown);
    await writeOut(join(dirname(flags.out), chartFileFor(flags.out)), result.chartSvg);
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else if (flags.out === undefined) process.stdout.write(result.markdown);
  else {
    const passed = result.checks.filter((c) => c.pass).length;
    process.stdout.write(
      `wrote ${flags.out} and ${join(dirname(flags.out), chartFileFor(flags.out))}: ${passed} of ${result.checks.length} quality checks pass, ${result.findings.length} findings\n`,
    );
  }
  for (const f of result.findings) process.stderr.write(`${f.severity}: ${f.field}: ${f.message}\n`);
  if (flags.strict && result.blocking) {
    process.stderr.write('flotilla: plan has blocking findings (--strict)\n');
    return EXIT_PLAN_BLOCKED;
  }
  return 0;
}

export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description(
      'Write the fleet plan: provisioning, OTA, telemetry, monitoring, scaling costs and quality checks',
    )
    .requiredOption('--input <file>', 'requirements, YAML or JSON (docs/plan.md, docs/examples/plan-*.yaml)')
    .option('--server <url>', "use this running server's configuration and fleet (GET /api/v1/plan)")
    .option(
      '--out <file>',
      'write the Markdown here and the chart next to it (<name>-cost-per-device.svg); default: stdout',
    )
    .option('--strict', `exit ${EXIT_PLAN_BLOCKED} when the plan has blocking findings`, false)
    .option('--json', 'print the plan as JSON (findings, checks, costs, document, chart)', false)
    .option('--benchmarks <file>', 'benchmark figures (default: docs/benchmarks.json of this installation)')
    .addHelpText(
      'after',
      '\nExamples:\n  flotilla plan --input docs/examples/plan-wifi-small.yaml --out plan.md\n  flotilla plan --input fleet.yaml --server http://127.0.0.1:8080 --strict\n  flotilla plan --input fleet.yaml --json | jq .checks',
    )
    .action(async (flags: PlanFlags) => {
      process.exitCode = await runPlan(flags);
    });
}
