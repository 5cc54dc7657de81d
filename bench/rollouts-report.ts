/** The rollouts section of docs/benchmarks.md (bench/rollouts.ts measures it). */
import type { RolloutBench, Timing } from './rollouts.ts';

export const ROLLOUT_SECTION_HEADING = '## Rollouts';

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const seconds = (t: Timing) => `${fmt(t.wallMs / 1000, 2)} (${fmt(t.cpuMs / 1000, 2)})`;
const perS = (count: number, ms: number) => fmt(count / (ms / 1000));

/** Markdown section for docs/benchmarks.md. */
export function renderRolloutSection(bench: RolloutBench): string {
  const planRows = bench.plans.flatMap((p) =>
    p.plans.map(
      (plan) =>
        `| ${fmt(p.devices)} | ${plan.selector} | ${fmt(plan.targeted)} | ${fmt(plan.excluded)} | ${seconds(plan.create)} | ${seconds(p.select)} | ${seconds(p.scan)} | ${fmt(plan.create.cpuMs / p.scan.cpuMs, 1)}× |`,
    ),
  );
  const setup = bench.plans.map((p) => `${fmt(p.devices)} in ${fmt(p.insert.wallMs / 1000, 1)} s`).join(', ');
  const s = bench.status;
  return `${ROLLOUT_SECTION_HEADING}

Measured on ${bench.date.toISOString()} (\`npm run bench -- --only rollouts\` rewrites only this section; load
average ${fmt(bench.loadAverage, 1)} at the end of the run). In-process, on SQLite files (WAL, synchronous NORMAL) through the
real stores, deployment service and rollout service; times are wall seconds with this process's CPU seconds in
parentheses (they differ when the machine is shared). Bench set-up, not measured: the registry is written with one
prepared INSERT in a single transaction (${setup}); 95 % of the devices are the release's model, 2 % of those already
run the release, regions eu/us/ap in turn.

**Planning** (\`rollout create\`, default stages 1/10/50/100 %): the selector and the release's model as one SQL
query paged by id, \`planDevices\` on each page, cohort positions (SHA-256 per device), the overlap check and the
members written in one transaction. Baselines in the same run: the selection alone (\`listDevicesMatching\` paged
through, 1,000 a page) and a plain \`SELECT\` of every device of the model in one statement.

| registered devices | selector | targeted | excluded | create (s) | selection alone (s) | plain SELECT (s) | create / SELECT (CPU) |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |
${planRows.join('\n')}

**Status reports** over a one-stage rollout of ${fmt(s.devices)} registered devices: the start tick (one deployment
for every targeted device) took ${seconds(s.startTick)} s; then every started device reports \`downloading\`,
\`installing\` and \`success\` through \`DeploymentService.applyStatus\` (one transaction each, history rows, the
retained offer cleared on success), with an orchestrator tick after every ${fmt(s.tickEvery)}
reports (${s.ticks} ticks, ${fmt(s.tickWallMs / Math.max(1, s.ticks) / 1000, 2)} s each: members, executions, gates).
Baseline: as many single-row INSERTs into a scratch table of the same file, each its own transaction.

| | reports | total (s) | reports/s | reports per CPU second |
| --- | ---: | ---: | ---: | ---: |
| status path + orchestrator ticks | ${fmt(s.reports)} | ${seconds(s.total)} | ${perS(s.reports, s.total.wallMs)} | ${perS(s.reports, s.total.cpuMs)} |
| raw SQLite INSERT, one per transaction (baseline) | ${fmt(s.reports)} | ${seconds(s.baseline)} | ${perS(s.reports, s.baseline.wallMs)} | ${perS(s.reports, s.baseline.cpuMs)} |
`;
}
