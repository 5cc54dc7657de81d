/**
 * The plan as data: what `GET /api/v1/plan` answers and `flotilla plan --json` prints — the
 * document, the chart, and the machine-readable findings, checks, decisions and costs. Pure.
 */
import { z } from 'zod';
import type { Plan } from './build-plan.ts';
import { hasErrors } from './findings.ts';
import { qualityCheckNames } from './quality-checks.ts';

export const planResultSchema = z.object({
  name: z.string(),
  /** true when an `error` finding is present: `--strict` exits non-zero. */
  blocking: z.boolean(),
  findings: z.array(
    z.object({ severity: z.enum(['error', 'warning']), field: z.string(), message: z.string() }),
  ),
  checks: z.array(z.object({ name: z.enum(qualityCheckNames), pass: z.boolean(), evidence: z.string() })),
  decisions: z.array(z.object({ topic: z.string(), choice: z.string(), reason: z.string() })),
  perDevice: z.object({
    telemetryMessagesPerDay: z.number(),
    pointsPerDay: z.number(),
    bytesPerMonth: z.number(),
    dataCostPerMonth: z.number(),
    storedBytes: z.number(),
  }),
  costs: z.array(
    z.object({
      devices: z.number().int(),
      selfHosted: z.object({
        monthly: z.number(),
        perDevice: z.number(),
        bottleneck: z.string(),
        nodes: z.number().int(),
      }),
      awsIotCore: z.object({ monthly: z.number(), perDevice: z.number() }),
      azureIotHub: z.object({ monthly: z.number(), perDevice: z.number() }),
    }),
  ),
  benchmarks: z.object({ file: z.string(), source: z.string() }),
  /** The Markdown document and the SVG chart it links to as `chartFile`. */
  markdown: z.string(),
  chartSvg: z.string(),
});
export type PlanResult = z.infer<typeof planResultSchema>;

export function planSummary(plan: Plan, markdown: string, chartSvg: string): PlanResult {
  return {
    name: plan.input.name,
    blocking: hasErrors(plan.findings),
    findings: plan.findings,
    checks: plan.checks,
    decisions: plan.decisions,
    perDevice: {
      telemetryMessagesPerDay: plan.traffic.telemetryMessagesPerDay,
      pointsPerDay: plan.traffic.pointsPerDay,
      bytesPerMonth: plan.traffic.bytesPerMonth,
      dataCostPerMonth: plan.traffic.dataCostPerMonth,
      storedBytes: plan.traffic.storedBytes,
    },
    costs: plan.costs.selfHosted.map((r, i) => ({
      devices: r.devices,
      selfHosted: { monthly: r.monthly, perDevice: r.perDevice, bottleneck: r.bottleneck, nodes: r.nodes },
      awsIotCore: { monthly: plan.costs.aws[i]!.monthly, perDevice: plan.costs.aws[i]!.perDevice },
      azureIotHub: { monthly: plan.costs.azure[i]!.monthly, perDevice: plan.costs.azure[i]!.perDevice },
    })),
    benchmarks: { file: plan.benchFile, source: plan.bench.source },
    markdown,
    chartSvg,
  };
}
