import { buildPlan, renderPlanMarkdown, readPlanInput, readBenchmarkFigures } from '/work/wt-plan/src/plan/index.ts';
const input = await readPlanInput(process.argv[2]!);
const bench = await readBenchmarkFigures();
const plan = buildPlan(input, { bench, benchFile: 'docs/benchmarks.json' });
process.stdout.write(renderPlanMarkdown(plan, { chartFile: 'x.svg' }));
