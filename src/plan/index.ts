/** Fleet plan and cost model (docs/plan.md): the pure model and its document, and the file edge. */
export { buildPlan, type Plan, type BuildPlanOptions } from './build-plan.ts';
export { renderPlanMarkdown } from './render-markdown.ts';
export { renderCostChart } from './chart-svg.ts';
export { planInputSchema, parsePlanInput, type PlanInput } from './input-schema.ts';
export { hasErrors, type Finding } from './findings.ts';
export type { LiveContext } from './live-context.ts';
export {
  readPlanInput,
  readPlanDocument,
  parsePlanInputText,
  readBenchmarkFigures,
  DEFAULT_BENCHMARKS_FILE,
} from './plan-files.ts';
export { planSummary, planResultSchema, type PlanResult } from './plan-result.ts';
