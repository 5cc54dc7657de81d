/** The dashboard section of docs/benchmarks.md (bench/bench-dashboard.ts measures it). */
import type { DashboardBench, LoadTimes } from './bench-dashboard.ts';

export const DASHBOARD_SECTION_HEADING = '## Dashboard first load';

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const spread = (t: LoadTimes) => `${fmt(Math.min(...t.runs))}–${fmt(Math.max(...t.runs))}`;

/** Markdown section for docs/benchmarks.md. */
export function renderDashboardSection(bench: DashboardBench): string {
  const loads: Array<[string, LoadTimes]> = [
    [
      'cold: first load right after the server started (its first requests; the bundle is built at start)',
      bench.cold,
    ],
    ['warm: new browser context (empty cache), bundle already built', bench.warm],
    [
      'baseline: static page of the same bytes from nginx (gzip), no script work, no API',
      bench.staticBaseline,
    ],
  ];
  const loadRows = loads.map(
    ([what, t]) => `| ${what} | ${t.runs.length} | ${fmt(t.medianMs)} | ${spread(t)} |`,
  );
  const apiRows = bench.api.map(
    (a) =>
      `| \`GET ${a.path}\` | ${fmt(a.bytes)} | ${a.runs.length} | ${fmt(a.medianMs, 1)} | ${spread(a)} |`,
  );
  const bundleRows = bench.bundle.map((b) => `| ${b.name} | ${fmt(b.rawBytes)} | ${fmt(b.gzipBytes)} |`);
  return `${DASHBOARD_SECTION_HEADING}

Measured on ${bench.date.toISOString()} (\`npm run bench -- --only dashboard\` rewrites only this section, \`--json FILE\`
writes the raw results; load average ${fmt(bench.loadAverage, 1)} at the end of the run${bench.loadAverage >= 2 ? ': other work shared the cores, so treat the times as upper bounds' : ''}).

**First load of the overview with ${fmt(bench.options.devices)} registered devices** (SQLite, seeded by SQL in
${fmt(bench.seedMs / 1000, 1)} s, not counted; access control on). Debian chromium (headless, 1440×900) on the same
machine as the server; each load in a new browser context holding only the admin's session cookie (signed in through
the API first, so the login form is not timed). Time from navigation start until
\`[data-testid=stat-total] .stat-value\` shows the device count, measured in the page (\`performance.now()\`). Target
(issue 9): under 1 s.

| load | runs | median ms | min–max ms |
| --- | ---: | ---: | ---: |
${loadRows.join('\n')}

**API answers behind the overview and the device list** at this size (as the admin's API token, over loopback;
one warm-up call, then the median). The server keeps the whole fleet's overview computed (\`dashboard.prepareAtStart\`):
a page gets it at once, at most \`dashboard.overviewMaxAgeS\` (30 s) old, and its live stream sends a fresh one as soon
as it is computed; the slowest run below is such a computation at this size.

| request | bytes | runs | median ms | min–max ms |
| --- | ---: | ---: | ---: | ---: |
${apiRows.join('\n')}

**Bundle** (built once per server process, served from memory; gzip level 9):

| asset | raw bytes | gzip bytes |
| --- | ---: | ---: |
${bundleRows.join('\n')}
`;
}
