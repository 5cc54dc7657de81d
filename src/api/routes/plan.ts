/**
 * Management API: the fleet plan from this server's configuration and fleet (docs/plan.md). The
 * requirements travel as JSON in the `input` query parameter (GET: the answer depends only on
 * them and the server's state). The request line is limited to 16 KiB; the examples take 2-4 KiB.
 */
import { z } from 'zod';
import { scopedWhere } from '../../access/principal.ts';
import type { Clock } from '../../infra/clock.ts';
import { ValidationError } from '../../infra/errors.ts';
import { gatherLiveContext, type LiveSources } from '../../plan/gather-live.ts';
import {
  buildPlan,
  parsePlanInput,
  planResultSchema,
  planSummary,
  renderCostChart,
  renderPlanMarkdown,
} from '../../plan/index.ts';
import type { BenchmarkFigures } from '../../plan/benchmarks.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

export interface PlanRouteDeps {
  live: LiveSources;
  clock: Clock;
  /** The benchmark figures and the file they came from (read once per request: `npm run bench` may rewrite it). */
  benchmarks(): Promise<{ figures: BenchmarkFigures; file: string }>;
  /** This server's management URL, cited in the document. */
  serverUrl(): string;
}

const chartFileSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,128}\.svg$/, 'a plain file name ending in .svg')
  .optional();

function parseInputParam(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError('input: expected the plan input document as JSON');
  }
}

export function planRoutes(deps: PlanRouteDeps): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/plan',
      operationId: 'fleetPlan',
      summary:
        "The fleet plan (Markdown document, SVG chart, findings, quality checks, costs) for the requirements in `input`, from this server's configuration and fleet",
      tag: 'plan',
      permission: 'system:read',
      query: z.strictObject({
        /** The plan input document (docs/plan.md, "Input") as JSON. */
        input: z.string().min(2).max(15_000),
        /** How the document links the chart; default `plan-cost-per-device.svg`. */
        chartFile: chartFileSchema,
      }),
      response: planResultSchema,
      errors: [400],
      handler: async ({ query, principal }) => {
        const input = parsePlanInput(parseInputParam(query.input));
        // A device-scoped caller sees only its devices (access/principal.ts).
        const where = scopedWhere(principal.deviceScope('system:read'), undefined);
        const [context, benchmarks] = await Promise.all([
          gatherLiveContext(deps.live, where),
          deps.benchmarks(),
        ]);
        const plan = buildPlan(input, {
          bench: benchmarks.figures,
          benchFile: benchmarks.file,
          live: { context, source: deps.serverUrl() },
          generatedAtMs: deps.clock.now(),
        });
        const markdown = renderPlanMarkdown(plan, {
          chartFile: query.chartFile ?? 'plan-cost-per-device.svg',
        });
        return planSummary(plan, markdown, renderCostChart(plan));
      },
    }),
  ];
}
