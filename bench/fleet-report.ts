/** The fleet section of docs/benchmarks.md (bench/fleet.ts measures it). */
import type { FleetBench } from './fleet.ts';

export const FLEET_SECTION_HEADING = '## Fleet queries and alert evaluation';

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const ms = (n: number) => fmt(n, n < 10 ? 2 : 1);

export function renderFleetSection(bench: FleetBench): string {
  const selectorRows = bench.runs.flatMap((run) =>
    run.selectors.map(
      (s) =>
        `| ${run.store} | ${fmt(run.devices)} | \`${s.query}\` | ${fmt(s.matched)} | ${ms(s.countMs)} | ${ms(s.firstPageMs)} | ${ms(s.baselineMs)} | ${fmt(s.countMs / Math.max(s.baselineMs, 0.001), 1)}× |`,
    ),
  );
  const extraRows = bench.runs.flatMap((run) =>
    Object.entries(run.extra).map(
      ([name, e]) => `| ${run.store} | ${fmt(run.devices)} | ${name} | ${ms(e.ms)} | ${e.detail} |`,
    ),
  );
  const setup = bench.runs
    .map((run) => `${run.store} ${fmt(run.devices)} in ${fmt(run.seedMs / 1000, 1)} s`)
    .join(', ');
  return `${FLEET_SECTION_HEADING}

Measured on ${bench.date.toISOString()} (\`npm run bench -- --only fleet\` rewrites only this section; load average
${fmt(bench.loadAverage, 1)} at the end of the run). In-process through the real stores; each figure is the median of
${bench.runsPerMeasurement} runs after one warm-up. Set-up, not measured (bench/fleet-seed.ts): the registry and the latest
telemetry written by one SQL statement per table (${setup}); 95 % one model, four firmware versions and four regions in
turn, 10 % in ring beta, 4 % offline for 0–95 h, battery and signal spread evenly.${
    bench.postgresSkipped ? `\n\nPostgreSQL was skipped: ${bench.postgresSkipped}.` : ''
  }

**Selectors** (the fleet query language, compiled to parameterised SQL): the count, and the first page of 100
devices (what the API and the dashboard ask for). Baseline in the same run on the same database: a hand-written SQL
count of the same devices. The hand-written version comparison lists the matching versions (\`IN ('2.3.0', '2.4.0')\`),
which only someone who knows the fleet can write; the language compares semantic-version sort keys instead —
PostgreSQL from a stored column, SQLite through a function computed per row, hence its higher ratio there.

| store | devices | query | matched | count (ms) | first 100 (ms) | hand-written count (ms) | count / hand-written |
| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |
${selectorRows.join('\n')}
${
  extraRows.length > 0
    ? `
**Fleet summary and alert evaluation** on the same fleets. The fleet summary is six aggregate queries (counts,
firmware versions, current release per model, battery and signal histograms, the error rate from hourly rollups).
The alert cycle evaluates the six shipped rules: one SQL query per device rule returning the matching devices, a
few aggregates per fleet rule, then the pending states written back; the seeded fleet matches a great deal (every
device reports 0–2 errors in 12 samples, so the error-rate rule matches two thirds of it, and signal below −90 dBm
a third), which is the expensive case: every match is a subject whose pending state is kept. The anomaly
evaluation reads the registry's recent disconnections and the hourly error rollups; no raw windows are seeded, so
its peer-outlier read is empty here.

| store | devices | measurement | median (ms) | detail |
| --- | ---: | --- | ---: | --- |
${extraRows.join('\n')}
`
    : ''
}`;
}
